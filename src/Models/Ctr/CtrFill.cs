namespace ReaSeq.Models.Ctr;

/// <summary>
/// One [FILL] of a GBR-augmented sequence (paper §3, §4.2.4): the inferred representation and the index in the
/// observed history before which it was inferred (0 = before the oldest item, History.Count = after the newest).
/// </summary>
public sealed record CtrFill(int Position, float[] Vector);
