using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReaSeq.Models.Dllm;

/// <summary>
/// One pre-norm transformer encoder layer without a causal mask, so every position attends to the items both
/// before and after it: the bidirectional reasoning of paper §3.2.2. x ← x + Attn(LN(x)); x ← x + FFN(LN(x)).
/// </summary>
internal sealed class LladaEncoderBlock : nn.Module<Tensor, Tensor, Tensor>
{
    // Field names become state-dict keys.
    private readonly LayerNorm attentionNorm;
    private readonly Linear queryKeyValue;
    private readonly Linear attentionOutput;
    private readonly LayerNorm feedForwardNorm;
    private readonly Linear feedForwardIn;
    private readonly Linear feedForwardOut;
    private readonly Dropout residualDropout;

    private readonly int _heads;
    private readonly double _attentionDropout;

    public LladaEncoderBlock(string name, int modelDim, int heads, int feedForwardDim, double dropout, double attentionDropout, Device device) : base(name)
    {
        _heads = heads;
        _attentionDropout = attentionDropout;
        attentionNorm = nn.LayerNorm(modelDim, device: device);
        queryKeyValue = nn.Linear(modelDim, 3 * modelDim, device: device);
        attentionOutput = nn.Linear(modelDim, modelDim, device: device);
        feedForwardNorm = nn.LayerNorm(modelDim, device: device);
        feedForwardIn = nn.Linear(modelDim, feedForwardDim, device: device);
        feedForwardOut = nn.Linear(feedForwardDim, modelDim, device: device);
        residualDropout = nn.Dropout(dropout);
        RegisterComponents();
    }

    /// <param name="input">[batch, length, modelDim]</param>
    /// <param name="keyMask">[batch, 1, 1, length] bool: true for real positions, false for padding keys.</param>
    public override Tensor forward(Tensor input, Tensor keyMask)
    {
        long batch = input.shape[0], length = input.shape[1], width = input.shape[2];
        long headDim = width / _heads;
        var qkv = queryKeyValue.forward(attentionNorm.forward(input))
            .view(batch, length, 3, _heads, headDim)
            .permute(2, 0, 3, 1, 4); // [3, batch, heads, length, headDim]
        var attended = nn.functional.scaled_dot_product_attention(
            qkv[0], qkv[1], qkv[2], keyMask, training ? _attentionDropout : 0.0, false);
        var merged = attended.transpose(1, 2).reshape(batch, length, width);
        var x = input + residualDropout.forward(attentionOutput.forward(merged));
        var hidden = nn.functional.gelu(feedForwardIn.forward(feedForwardNorm.forward(x)));
        return x + residualDropout.forward(feedForwardOut.forward(hidden));
    }

    /// <summary>
    /// The same layer for §3.2.3 inference only (evaluation mode, under no_grad), over packed real positions: no
    /// dropout, and the activations are updated in place (residual adds fused into the output matmuls, GELU in
    /// place), which saves a pass over memory and an allocation per op. <paramref name="input"/> [real, modelDim]
    /// holds the positions <paramref name="realRows"/> (flat batch × length indices; the first
    /// <paramref name="realCount"/> are distinct, any after them repeat one of those to pad the row count) and is
    /// overwritten; the projections and the FFN run only over these rows, attention over the [batch, length] layout with
    /// <paramref name="keyMask"/> hiding the rest. With <paramref name="rows"/> (indices into the packed rows) only those
    /// rows leave the layer, [rows, modelDim]: every position still serves as key and value, but the attention
    /// output and the FFN run only for the queried rows, which is all a last layer needs when only the [FILL]
    /// outputs are read.
    /// </summary>
    public Tensor ForwardInference(Tensor input, Tensor realRows, long realCount, long batch, long length, Tensor keyMask, Tensor? rows)
    {
        if (training || is_grad_enabled())
            throw new InvalidOperationException("The in-place inference path needs evaluation mode and no_grad.");
        long width = input.shape[1];
        long headDim = width / _heads;
        var packed = queryKeyValue.forward(attentionNorm.forward(input));
        // Padding positions get zero queries, keys and values: the mask hides them as keys, their outputs are dropped.
        // Only the first realCount rows are real positions (the rest pad the row count and are never written back).
        var qkv = (realCount == batch * length && realRows.shape[0] == realCount ? packed
                : zeros(batch * length, 3 * width, device: input.device).index_copy_(0, realRows.narrow(0, 0, realCount), packed.narrow(0, 0, realCount)))
            .view(batch, length, 3, _heads, headDim)
            .permute(2, 0, 3, 1, 4); // [3, batch, heads, length, headDim]
        var attended = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], keyMask, 0.0, false);
        var x = input;
        var keep = realRows;
        if (rows is not null)
        {
            x = x.index_select(0, rows);
            keep = realRows.index_select(0, rows);
        }
        var merged = attended.transpose(1, 2).reshape(batch * length, width).index_select(0, keep);
        x.addmm_(merged, attentionOutput.weight!.t()).add_(attentionOutput.bias!);
        var hidden = feedForwardIn.forward(feedForwardNorm.forward(x)).gelu_();
        return x.addmm_(hidden, feedForwardOut.weight!.t()).add_(feedForwardOut.bias!);
    }
}
