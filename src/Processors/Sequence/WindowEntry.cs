namespace ReaSeq.Processors.Sequence;

/// <summary>One retained event of a user, with its incoming transition and its label.</summary>
/// <param name="EventId"></param>
/// <param name="ItemId"></param>
/// <param name="Category"></param>
/// <param name="Domain"></param>
/// <param name="TimestampMs"></param>
/// <param name="Incoming">Null for the user's first event (no transition).</param>
/// <param name="LabelDelta">Δ of §3.2.1 for this position: log p(next | …this) − log p(next | …previous);
/// NaN while it has no successor yet or for the user's first event.</param>
/// <param name="IsLabeled"></param>
public readonly record struct WindowEntry(
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
