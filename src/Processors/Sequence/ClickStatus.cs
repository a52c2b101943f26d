namespace ReaSeq.Processors.Sequence;

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
