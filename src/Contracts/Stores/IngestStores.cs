namespace ReaSeq.Contracts.Stores;

/// <summary>The next offset to read in one partition, stored in the same transaction as the state it produced.</summary>
public readonly record struct PartitionOffset(string Topic, int Partition, long NextOffset);

/// <summary>Offsets a consumer group has made durable together with its state.</summary>
public interface IOffsetStore
{
    Task<IReadOnlyList<PartitionOffset>> LoadOffsetsAsync(string consumerGroup, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct);
}

/// <summary>
/// One retained click of a user's bounded recent sequence. Seq counts the user's accepted clicks from 0; Partition is
/// the Kafka partition that owns the user, so a new owner can load exactly its users.
/// </summary>
public sealed record StoredClick(string UserId, long Seq, string EventId, string ItemId, long TsMs, ClickAction Action, int Partition);

/// <summary>Clicks of a user older than KeepFromSeq fall out of the bounded sequence.</summary>
public sealed record SequenceTrim(string UserId, long KeepFromSeq);

/// <summary>Per-user bounded click sequences (state of the click ingestor).</summary>
public interface IClickSequenceStore : IOffsetStore
{
    /// <summary>Retained clicks of every user owned by the given partitions, ordered by user and Seq.</summary>
    Task<IReadOnlyList<StoredClick>> LoadPartitionsAsync(IReadOnlyCollection<int> partitions, CancellationToken ct);

    /// <summary>Appends clicks, trims sequences and stores offsets, all in one transaction.</summary>
    Task CommitAsync(string consumerGroup, IReadOnlyList<StoredClick> appended, IReadOnlyList<SequenceTrim> trims, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct);

    /// <summary>A user's retained sequence, oldest first.</summary>
    Task<IReadOnlyList<StoredClick>> GetSequenceAsync(string userId, CancellationToken ct);
}

/// <summary>Latest metadata per item (state of the item ingestor).</summary>
public interface ICatalogStore : IOffsetStore
{
    /// <summary>Upserts items (an older ts_ms never overwrites a newer one) and stores offsets in one transaction.</summary>
    Task CommitAsync(string consumerGroup, IReadOnlyList<ItemUpdate> items, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct);

    Task<ItemUpdate?> GetAsync(string itemId, CancellationToken ct);
}

/// <summary>Labeled impressions kept for the trainer (state of the impression ingestor).</summary>
public interface IImpressionStore : IOffsetStore
{
    /// <summary>Inserts impressions (a repeated impression_id is kept once) and stores offsets; returns how many were new.</summary>
    Task<int> CommitAsync(string consumerGroup, IReadOnlyList<LabeledImpression> impressions, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct);
}
