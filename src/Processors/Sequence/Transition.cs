using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Processors.Sequence;

/// <summary>
/// The decision on the transition from the previous event into this one; a gap at window position i
/// means missing behaviour between window[i−1] and window[i].
/// </summary>
/// <param name="DeltaMs">Δt ≥ 0 (equal timestamps give 0).</param>
/// <param name="ThresholdMs">The T this decision used (recorded for replay and audit).</param>
/// <param name="FromCategory"></param>
/// <param name="ToCategory"></param>
/// <param name="Rank">Finite when <paramref name="RankStatus"/> is Ranked or OutsideCandidates, else <see cref="Prediction.Unranked"/> (no RANK decision).</param>
/// <param name="RankStatus"></param>
/// <param name="LogProbability">log p(this item | the c preceding items) under the model.</param>
/// <param name="Reasons"></param>
/// <param name="GapIn"></param>
public readonly record struct Transition(
    long DeltaMs,
    long ThresholdMs,
    string? FromCategory,
    string? ToCategory,
    int Rank,
    RankStatus RankStatus,
    double LogProbability,
    GapReasonFlags Reasons,
    DetectionVariantFlags GapIn)
{
    public bool CategoryKnown => !string.IsNullOrEmpty(FromCategory) && !string.IsNullOrEmpty(ToCategory);

    public bool IsGap(DetectionVariant variant) => (GapIn & (DetectionVariantFlags)(1 << (int)variant)) != 0;

    internal static DetectionVariantFlags Combine(GapReasonFlags reasons)
    {
        var temporal = (reasons & GapReasonFlags.Temporal) != 0;
        var category = (reasons & GapReasonFlags.Category) != 0;
        var rank = (reasons & GapReasonFlags.Rank) != 0;
        var gaps = DetectionVariantFlags.None;
        if (temporal) gaps |= DetectionVariantFlags.Temporal;
        if (category) gaps |= DetectionVariantFlags.Category;
        if (temporal || category) gaps |= DetectionVariantFlags.TemporalOrCategory;
        if (temporal && category && rank) gaps |= DetectionVariantFlags.TemporalAndCategoryThenRank;
        return gaps;
    }
}
