namespace ReaSeq.Models.Ctr;

/// <summary>
/// Prequential metrics over a window: overall, for sparse users (the tail third by activity, paper §4.2.1) and for
/// the other, active users.
/// </summary>
public sealed record CtrEvaluationSnapshot(long SamplesSeen, CtrSegmentMetrics Overall, CtrSegmentMetrics Sparse, CtrSegmentMetrics Active)
{
    public static readonly CtrSegmentMetrics Empty = new(double.NaN, double.NaN, 0, 0);

    /// <summary>Flat names for registry rows, ModelVersion.metrics and JSON: auc, gauc, sparse_auc, … (NaN left out).</summary>
    public Dictionary<string, double> ToDictionary()
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal) { ["samples"] = SamplesSeen };
        foreach (var (prefix, segment) in new[] { ("", Overall), ("sparse_", Sparse), ("active_", Active) })
        {
            if (!double.IsNaN(segment.Auc)) metrics[prefix + "auc"] = segment.Auc;
            if (!double.IsNaN(segment.Gauc)) metrics[prefix + "gauc"] = segment.Gauc;
            metrics[prefix + "window_samples"] = segment.Samples;
        }
        return metrics;
    }
}
