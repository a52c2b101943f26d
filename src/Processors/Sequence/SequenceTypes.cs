namespace ReaSeq.Processors.Sequence;

/// <summary>One click fed to the detector.</summary>
/// <param name="UserId"></param>
/// <param name="EventId"></param>
/// <param name="ItemId"></param>
/// <param name="TimestampMs"></param>
/// <param name="Category">The item's primary (top-level) category; null or empty means unknown.</param>
/// <param name="Domain">Whose gap distribution sets T (e.g. app or scenario); "" is the default domain.</param>
public readonly record struct SequenceClick(string UserId, string EventId, string ItemId, long TimestampMs, string? Category, string Domain = "");
