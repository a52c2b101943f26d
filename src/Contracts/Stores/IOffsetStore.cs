namespace ReaSeq.Contracts.Stores;

/// <summary>Offsets a consumer group has made durable together with its state.</summary>
public interface IOffsetStore
{
    Task<IReadOnlyList<PartitionOffset>> LoadOffsetsAsync(string consumerGroup, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct);

    /// <summary>
    /// Claims newly assigned partitions for this consumer (issue 8 B5): every partition gets a new owner epoch, returned
    /// with its stored offset (0 for a partition never stored). Offsets written with that epoch are refused once another
    /// consumer has claimed the partition, so a consumer that lost it while stalled can never commit stale state.
    /// </summary>
    Task<IReadOnlyList<PartitionOffset>> ClaimOffsetsAsync(string consumerGroup, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct);
}
