namespace ReaSeq.Contracts.Stores;

/// <summary>The next offset to read in one partition, stored in the same transaction as the state it produced.</summary>
public readonly record struct PartitionOffset(string Topic, int Partition, long NextOffset)
{
    /// <summary>
    /// The writer's owner epoch for the partition (issue 8 B5), from claiming it on assignment; storing the offset then
    /// fails when another consumer has claimed the partition since. 0: an unfenced writer.
    /// </summary>
    public long OwnerEpoch { get; init; }
}

/// <summary>
/// One retained click of a user's bounded recent sequence. Seq counts the user's accepted clicks from 0; Partition is
/// the Kafka partition that owns the user, so a new owner can load exactly its users.
/// </summary>
public sealed record StoredClick(string UserId, long Seq, string EventId, string ItemId, long TsMs, ClickAction Action, int Partition);

/// <summary>Clicks of a user older than KeepFromSeq fall out of the bounded sequence.</summary>
public sealed record SequenceTrim(string UserId, long KeepFromSeq);
