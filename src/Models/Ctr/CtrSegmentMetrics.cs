namespace ReaSeq.Models.Ctr;

/// <summary>AUC and GAUC of one user segment; NaN where a segment lacks both labels.</summary>
public sealed record CtrSegmentMetrics(double Auc, double Gauc, int Samples, int Users);
