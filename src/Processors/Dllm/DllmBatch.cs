using ReaSeq.Models.Dllm;
using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Processors.Dllm;

/// <summary>
/// Turns gap windows into the tiny LLaDA's input (paper §3.2.1–§3.2.3): each window item enters with its frozen
/// knowledge vector (labeled ones as <see cref="PositionKind.LabeledFill"/>, the rest as observed), and a
/// <see cref="PositionKind.UnlabeledFill"/> token is inserted before every item that follows a detected gap.
/// An item without a knowledge vector (the knowledge role has not reasoned about it yet) enters as [MASK]: a labeled
/// position masked through <see cref="LladaTiny.MaskField"/>, so the model infers it from its neighbours exactly as it
/// does for the masked positions it was trained on (§3.2.2), and no made-up vector reaches the adapter.
/// </summary>
public static class DllmBatch
{
    /// <summary>Length of the padded shape a window of <paramref name="tokens"/> positions is run at: its own size rounded up to 16, at most <paramref name="maxLength"/>.</summary>
    public static int Bucket(int tokens, int maxLength) => Math.Min(maxLength, (tokens + 15) / 16 * 16);

    /// <summary>
    /// The batch for <paramref name="windows"/>, padded to <paramref name="rows"/> rows of <paramref name="length"/>
    /// positions (padding rows hold one zero observed item, so attention never sees a row without keys). Returns
    /// the batch and, per window, the model position of each gap's [FILL] (in the window's gap order).
    /// <paramref name="vector"/> returns null for an item without a knowledge vector, which then enters as [MASK].
    /// <paramref name="logPrior"/>, when given, adds each window item's log q as <see cref="LladaTiny.TargetLogPriorField"/>
    /// (training only: Eq. 7's sampling-bias correction).
    /// </summary>
    public static (Interaction Batch, int[][] FillTokens) Build(IReadOnlyList<GapWindow> windows, Func<string, float[]?> vector,
        int itemVectorDim, int rows, int length, Device device, Func<string, float>? logPrior = null)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(vector);
        if (rows < windows.Count) throw new ArgumentException($"{windows.Count} windows do not fit {rows} rows.", nameof(rows));
        var vectors = new float[rows * length * itemVectorDim];
        var kinds = new long[rows * length];
        bool[]? masked = null;
        var prior = logPrior is null ? null : new float[rows * length];
        var fills = new int[windows.Count][];
        for (int row = 0; row < rows; row++)
        {
            if (row >= windows.Count)
            {
                kinds[row * length] = (long)PositionKind.Observed;
                continue;
            }
            var window = windows[row];
            if (window.TokenCount > length) throw new ArgumentException($"A window of {window.TokenCount} positions does not fit length {length}.", nameof(length));
            fills[row] = new int[window.Gaps.Count];
            int token = 0, gap = 0, labeled = 0;
            for (int item = 0; item < window.Items.Count; item++)
            {
                if (gap < window.Gaps.Count && window.Gaps[gap] == item)
                {
                    fills[row][gap++] = token;
                    kinds[row * length + token++] = (long)PositionKind.UnlabeledFill;
                }
                bool isLabeled = labeled < window.Labeled.Count && window.Labeled[labeled] == item;
                if (isLabeled) labeled++;
                int flat = row * length + token++;
                kinds[flat] = (long)(isLabeled ? PositionKind.LabeledFill : PositionKind.Observed);
                if (prior is not null) prior[flat] = logPrior!(window.Items[item]);
                var source = vector(window.Items[item]);
                if (source is null)
                {
                    kinds[flat] = (long)PositionKind.LabeledFill;
                    (masked ??= new bool[rows * length])[flat] = true;
                    continue;
                }
                if (source.Length != itemVectorDim)
                    throw new ArgumentException($"Item '{window.Items[item]}' has a vector of {source.Length} values, the model expects {itemVectorDim}.");
                source.CopyTo(vectors, flat * itemVectorDim);
            }
        }
        var batch = new Interaction()
            .Add(LladaTiny.ItemVectorsField, tensor(vectors, new long[] { rows, length, itemVectorDim }, device: device))
            .Add(LladaTiny.PositionKindsField, tensor(kinds, new long[] { rows, length }, device: device));
        if (prior is not null) batch.Add(LladaTiny.TargetLogPriorField, tensor(prior, new long[] { rows, length }, device: device));
        if (masked is not null) batch.Add(LladaTiny.MaskField, tensor(masked, new long[] { rows, length }, device: device));
        return (batch, fills);
    }
}
