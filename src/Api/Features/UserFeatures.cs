using ReaSeq.Contracts;

namespace ReaSeq.Api.Features;

/// <summary>
/// A user's online features: the retained click history (item ids, oldest first, at most Api:HistoryLength), the latest
/// SequenceUpdate (window and gaps, paper §3.1) and the latest AugmentedSequence (fills, paper §3.2).
/// </summary>
public sealed record UserFeatures(string UserId, IReadOnlyList<string> History, IReadOnlyList<long> HistoryTsMs,
    SequenceUpdate? Sequence, AugmentedSequence? Augmented, long LoadedAtMs)
{
    /// <summary>A user with no history and no sequence takes the cold-start path.</summary>
    public bool Known => History.Count > 0 || Sequence is not null || Augmented is not null;

    /// <summary>Highest sequence version these features reflect (-1: none).</summary>
    public long Version => Math.Max(Sequence?.SequenceVersion ?? -1, Augmented?.SequenceVersion ?? -1);
}
