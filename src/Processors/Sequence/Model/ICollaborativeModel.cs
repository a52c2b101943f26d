namespace ReaSeq.Processors.Sequence.Model;

/// <summary>Score of one observed next item given a context.</summary>
/// <param name="LogProbability">Natural log of the smoothed p(item | context); always finite.</param>
/// <param name="Rank">1 + number of items scoring strictly higher (ties rank optimistically); finite for
/// <see cref="RankStatus.Ranked"/> and <see cref="RankStatus.OutsideCandidates"/>, else <see cref="Unranked"/>.</param>
/// <param name="Status"></param>
public readonly record struct Prediction(double LogProbability, int Rank, RankStatus Status)
{
    public const int Unranked = int.MaxValue;

    /// <summary>True when the model has evidence and a finite rank: the RANK rule can decide.</summary>
    public bool IsRanked => Status is RankStatus.Ranked or RankStatus.OutsideCandidates;
}

/// <summary>
/// A next-item model for the RANK rule (paper §3.1 stage 2) and the self-supervised labels (§3.2.1).
/// Items are addressed by a dense index the model assigns (<see cref="Intern"/>); -1 means "unknown".
/// A context is a span of item indices ordered oldest → newest; entries of -1 contribute nothing.
/// Implementations are deterministic (same snapshot + same calls ⇒ same answers) and not thread-safe.
/// An incrementally learned model implements <see cref="Learn"/>; a periodically trained sequential model
/// (e.g. SASRec) can implement it as a no-op and be swapped in whole from its own training job.
/// </summary>
public interface ICollaborativeModel
{
    /// <summary>Number of items in the model's vocabulary.</summary>
    int ItemCount { get; }

    /// <summary>How many preceding items <see cref="Learn"/> uses; callers pass at most this many.</summary>
    int LearningWindow { get; }

    /// <summary>The item's index, or -1 if the model has never seen it.</summary>
    int IndexOf(string itemId);

    /// <summary>The item's index, adding it to the vocabulary if needed.</summary>
    int Intern(string itemId);

    string ItemAt(int index);

    /// <summary>Log-probability and rank of <paramref name="target"/> (-1 for an unknown item) after <paramref name="context"/>.</summary>
    Prediction Predict(ReadOnlySpan<int> context, int target);

    /// <summary>Only the log-probability (cheaper than <see cref="Predict"/>; bitwise equal to its LogProbability).</summary>
    double LogProbability(ReadOnlySpan<int> context, int target);

    /// <summary>
    /// Learns that a user clicked <paramref name="itemId"/> at <paramref name="timestampMs"/> right after
    /// <paramref name="preceding"/> (oldest → newest). <paramref name="userEventCount"/> is the user's number of
    /// accepted events including this one (activity damping). Returns the item's index.
    /// </summary>
    int Learn(ReadOnlySpan<int> preceding, string itemId, long timestampMs, long userEventCount);

    void WriteSnapshot(Stream destination);

    /// <summary>Replaces the whole model state with a snapshot written by <see cref="WriteSnapshot"/>.</summary>
    void RestoreSnapshot(Stream source);
}
