namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>All of one user's accepted events in time order, with their final gap and label decisions.</summary>
public sealed record GbrUserSequence(string UserId, IReadOnlyList<GbrEvent> Events);
