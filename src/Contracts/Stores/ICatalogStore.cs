namespace ReaSeq.Contracts.Stores;

/// <summary>Latest metadata per item (state of the item ingestor).</summary>
public interface ICatalogStore : IOffsetStore
{
    /// <summary>Upserts items (an older ts_ms never overwrites a newer one) and stores offsets in one transaction.</summary>
    Task CommitAsync(string consumerGroup, IReadOnlyList<ItemUpdate> items, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct);

    Task<ItemUpdate?> GetAsync(string itemId, CancellationToken ct);
}
