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
}
