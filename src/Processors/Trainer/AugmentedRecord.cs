using ReaSeq.Models.Ctr;

namespace ReaSeq.Processors.Trainer;

/// <summary>
/// One augmented sequence (issue 7) of a user: the observed item ids it was computed over and its fills, whose
/// positions index <see cref="Observed"/> (a fill at p sits before Observed[p]).
/// </summary>
public sealed record AugmentedRecord(long TsMs, string ModelVersion, IReadOnlyList<string> Observed, IReadOnlyList<CtrFill> Fills);
