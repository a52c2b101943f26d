namespace ReaSeq.Processors.Sequence;

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
