using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Processors.Sequence;

/// <summary>One click fed to the detector.</summary>
/// <param name="Category">The item's primary (top-level) category; null or empty means unknown.</param>
/// <param name="Domain">Whose gap distribution sets T (e.g. app or scenario); "" is the default domain.</param>
public readonly record struct SequenceClick(string UserId, string EventId, string ItemId, long TimestampMs, string? Category, string Domain = "");

/// <summary>Which rules fired on a transition (all of them, whatever the configured variant).</summary>
[Flags]
public enum DiscontinuityReasons : byte
{
    None = 0,
    /// <summary>TD: Δt &gt; T.</summary>
    Temporal = 1,
    /// <summary>CD: both categories known and different.</summary>
    Category = 2,
    /// <summary>RANK: rank &gt; κ, or the model could not rank the item (see <see cref="Transition.RankStatus"/>).</summary>
    Rank = 4,
}

/// <summary>The variants under which a transition is a gap.</summary>
[Flags]
public enum GapVariants : byte
{
    None = 0,
    Temporal = 1 << DetectionVariant.Temporal,
    Category = 1 << DetectionVariant.Category,
    TemporalOrCategory = 1 << DetectionVariant.TemporalOrCategory,
    TemporalAndCategoryThenRank = 1 << DetectionVariant.TemporalAndCategoryThenRank,
}

/// <summary>
/// The decision on the transition from the previous event into this one; a gap at window position i
/// means missing behaviour between window[i−1] and window[i].
/// </summary>
/// <param name="DeltaMs">Δt ≥ 0 (equal timestamps give 0).</param>
/// <param name="ThresholdMs">The T this decision used (recorded for replay and audit).</param>
/// <param name="Rank">Finite only when <paramref name="RankStatus"/> is Ranked, else <see cref="Prediction.Unranked"/>.</param>
/// <param name="LogProbability">log p(this item | the c preceding items) under the model.</param>
public readonly record struct Transition(
    long DeltaMs,
    long ThresholdMs,
    string? FromCategory,
    string? ToCategory,
    int Rank,
    RankStatus RankStatus,
    double LogProbability,
    DiscontinuityReasons Reasons,
    GapVariants GapIn)
{
    public bool CategoryKnown => !string.IsNullOrEmpty(FromCategory) && !string.IsNullOrEmpty(ToCategory);

    public bool IsGap(DetectionVariant variant) => (GapIn & (GapVariants)(1 << (int)variant)) != 0;

    internal static GapVariants Combine(DiscontinuityReasons reasons)
    {
        var temporal = (reasons & DiscontinuityReasons.Temporal) != 0;
        var category = (reasons & DiscontinuityReasons.Category) != 0;
        var rank = (reasons & DiscontinuityReasons.Rank) != 0;
        var gaps = GapVariants.None;
        if (temporal) gaps |= GapVariants.Temporal;
        if (category) gaps |= GapVariants.Category;
        if (temporal || category) gaps |= GapVariants.TemporalOrCategory;
        if (temporal && category && rank) gaps |= GapVariants.TemporalAndCategoryThenRank;
        return gaps;
    }
}

/// <summary>One retained event of a user, with its incoming transition and its label.</summary>
/// <param name="Incoming">Null for the user's first event (no transition).</param>
/// <param name="LabelDelta">Δ of §3.2.1 for this position: log p(next | …this) − log p(next | …previous);
/// NaN while it has no successor yet or for the user's first event.</param>
public readonly record struct SequenceEntry(
    string EventId,
    string ItemId,
    string? Category,
    string Domain,
    long TimestampMs,
    Transition? Incoming,
    double LabelDelta,
    bool IsLabeled)
{
    /// <summary>The model's index of the item at the time it was last looked up (-1: unknown).</summary>
    internal int ItemIndex { get; init; }
}

public enum ClickStatus : byte
{
    /// <summary>Appended at the end of the user's sequence.</summary>
    Accepted = 0,
    /// <summary>Late, but within tolerance: inserted in timestamp order; neighbouring decisions were re-evaluated.</summary>
    AcceptedOutOfOrder = 1,
    /// <summary>An event id already accepted for this user: ignored, nothing changed.</summary>
    Duplicate = 2,
    /// <summary>Older than the user's newest event by more than the tolerance: dead-letter it.</summary>
    RejectedTooLate = 3,
    /// <summary>Would land where the retained window no longer holds its context: dead-letter it.</summary>
    RejectedOutsideWindow = 4,
    /// <summary>Missing ids or a negative timestamp: dead-letter it.</summary>
    RejectedInvalid = 5,
}

/// <summary>
/// What one click did. For accepted clicks, <see cref="Sequence"/> is the user's live window and
/// positions [<see cref="FirstChanged"/>, <see cref="LastChanged"/>] hold every entry whose transition or label
/// changed (window indices as of the return; they shift left when later events evict).
/// </summary>
public readonly record struct ClickResult(ClickStatus Status, string? Detail, UserSequence? Sequence, int Position, int FirstChanged, int LastChanged)
{
    public bool IsAccepted => Status is ClickStatus.Accepted or ClickStatus.AcceptedOutOfOrder;

    /// <summary>True when the caller should dead-letter the click (duplicates are simply dropped).</summary>
    public bool ShouldDeadLetter => Status is ClickStatus.RejectedTooLate or ClickStatus.RejectedOutsideWindow or ClickStatus.RejectedInvalid;

    /// <summary>The decision on the new event's incoming transition (null if rejected or the user's first event).</summary>
    public Transition? Transition => IsAccepted ? Sequence![Position].Incoming : null;

    internal static ClickResult Rejected(ClickStatus status, string detail) => new(status, detail, null, -1, 0, -1);
}
