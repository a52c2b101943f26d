using ReaSeq.Models.Dllm;
using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>Turns windows into a <see cref="LladaTiny"/> batch, padded to the longest window.</summary>
public static class GbrBatch
{
    /// <param name="windows"></param>
    /// <param name="vectors">The item vector table (one row per item, all of one width).</param>
    /// <param name="withEvalMask">Add each window's fixed evaluation mask as <see cref="LladaTiny.MaskField"/>.</param>
    /// <param name="device"></param>
    /// <param name="logPrior">Per item row, log q for Eq. 7's sampling-bias correction (<see cref="LladaTiny.TargetLogPriorField"/>); null: none.</param>
    public static Interaction Create(IReadOnlyList<GbrWindow> windows, float[][] vectors, bool withEvalMask, Device device, float[]? logPrior = null)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(vectors);
        int batch = windows.Count, length = windows.Max(w => w.Length), dim = vectors[0].Length;
        var values = new float[batch * length * dim];
        var kinds = new long[batch * length];
        var mask = new bool[batch * length];
        var prior = logPrior is null ? null : new float[batch * length];
        for (int b = 0; b < batch; b++)
        {
            var window = windows[b];
            for (int p = 0; p < window.Length; p++)
            {
                int flat = b * length + p;
                kinds[flat] = (long)window.Kinds[p];
                mask[flat] = window.EvalMask[p];
                if (window.Items[p] < 0) continue;
                vectors[window.Items[p]].CopyTo(values, flat * dim);
                if (prior is not null) prior[flat] = logPrior![window.Items[p]];
            }
        }
        var result = new Interaction()
            .Add(LladaTiny.ItemVectorsField, tensor(values, new long[] { batch, length, dim }, device: device))
            .Add(LladaTiny.PositionKindsField, tensor(kinds, new long[] { batch, length }, device: device));
        if (prior is not null) result.Add(LladaTiny.TargetLogPriorField, tensor(prior, new long[] { batch, length }, device: device));
        if (withEvalMask) result.Add(LladaTiny.MaskField, tensor(mask, new long[] { batch, length }, device: device));
        return result;
    }
}
