namespace ReaSeq.Processors.Trainer;

/// <summary>One click of a user's observed sequence, as ingest retains it.</summary>
public readonly record struct UserClick(string ItemId, long TsMs);
