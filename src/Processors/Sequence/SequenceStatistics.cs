using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Processors.Sequence;

/// <summary>
/// Detection statistics in the shape of the paper's Table 5, for every variant side by side.
/// Counts describe the current decisions on every transition ever made: a transition re-evaluated after an
/// out-of-order insertion replaces its earlier contribution.
/// </summary>
/// <param name="ConfiguredVariant"></param>
/// <param name="EventsReceived"></param>
/// <param name="EventsAccepted"></param>
/// <param name="EventsOutOfOrder"></param>
/// <param name="Duplicates"></param>
/// <param name="RejectedTooLate"></param>
/// <param name="RejectedOutsideWindow"></param>
/// <param name="RejectedInvalid"></param>
/// <param name="Users"></param>
/// <param name="Transitions"></param>
/// <param name="Variants"></param>
/// <param name="Reasons">Transitions per combination of fired rules, e.g. "TD+CD", "none".</param>
/// <param name="DeltaTMs">Δt in log2 buckets: [0,1) then [2^(b−1), 2^b) ms.</param>
/// <param name="Rank">Ranks of transitions RANK decided on (in the candidates or outside them) in log2 buckets [2^(b−1), 2^b).</param>
/// <param name="Unranked">Transitions not among the context's candidates, by cause: UnknownItem and NoContextEvidence made no
/// RANK decision (no evidence); OutsideCandidates were ranked 1 + number of candidates.</param>
/// <param name="LabelCandidates">Positions whose Δ has been evaluated.</param>
/// <param name="LabeledPositions"></param>
/// <param name="Thresholds"></param>
public sealed record SequenceStatistics(
    DetectionVariant ConfiguredVariant,
    long EventsReceived,
    long EventsAccepted,
    long EventsOutOfOrder,
    long Duplicates,
    long RejectedTooLate,
    long RejectedOutsideWindow,
    long RejectedInvalid,
    long Users,
    long Transitions,
    IReadOnlyList<VariantStatistics> Variants,
    IReadOnlyDictionary<string, long> Reasons,
    IReadOnlyList<HistogramBucket> DeltaTMs,
    IReadOnlyList<HistogramBucket> Rank,
    IReadOnlyDictionary<RankStatus, long> Unranked,
    long LabelCandidates,
    long LabeledPositions,
    IReadOnlyList<TemporalThresholdInfo> Thresholds)
{
    /// <summary>Labeled positions per observed (accepted) event.</summary>
    public double LabeledRatio => EventsAccepted == 0 ? 0 : (double)LabeledPositions / EventsAccepted;

    public VariantStatistics For(DetectionVariant variant) => Variants.Single(v => v.Variant == variant);

    /// <summary>Transitions without model evidence, on which RANK made no decision.</summary>
    public long RankUndecided => Unranked.GetValueOrDefault(RankStatus.UnknownItem) + Unranked.GetValueOrDefault(RankStatus.NoContextEvidence);

    /// <summary>Transitions on which RANK fired (rank &gt; κ).</summary>
    public long RankFired => Reasons.Where(kv => kv.Key.Contains("RANK", StringComparison.Ordinal)).Sum(kv => kv.Value);
}

/// <param name="Variant"></param>

/// <param name="Name"></param>
/// <param name="Gaps"></param>/// <param name="FillRatio">[FILL] ratio: gaps per observed (accepted) event.</param>
public sealed record VariantStatistics(DetectionVariant Variant, string Name, long Gaps, double FillRatio);

public sealed record HistogramBucket(long LowerInclusive, long UpperExclusive, long Count);
