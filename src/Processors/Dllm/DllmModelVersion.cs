namespace ReaSeq.Processors.Dllm;

/// <summary>
/// One recorded model version: its number, what it was trained on, and the §4.2.1 metrics on its held-out batch
/// (keys mask_ib_acc, mask_ib_ppl, fill_ib_acc, fill_ib_ppl, heldout_sequences, final_loss).
/// </summary>
public sealed record DllmModelVersion(long Version, int TrainingWindows, int Steps, IReadOnlyDictionary<string, double> Metrics, DateTime CreatedAt)
{
    /// <summary>What AugmentedSequence.model_version carries.</summary>
    public string Name => Label(Version);

    public static string Label(long version) => $"dllm-v{version}";

    public double Metric(string key) => Metrics.TryGetValue(key, out var value) ? value : double.NaN;
}
