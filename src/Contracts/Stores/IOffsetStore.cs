namespace ReaSeq.Contracts.Stores;

/// <summary>Offsets a consumer group has made durable together with its state.</summary>
public interface IOffsetStore
{
    Task<IReadOnlyList<PartitionOffset>> LoadOffsetsAsync(string consumerGroup, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct);
}
