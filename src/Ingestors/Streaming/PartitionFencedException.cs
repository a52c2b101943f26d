namespace ReaSeq.Ingestors.Streaming;

/// <summary>
/// A writer's claim on partitions is stale: another consumer was assigned them since (their owner epoch moved on).
/// Nothing of the write commits; the stale writer must drop those partitions' state.
/// </summary>
public sealed class PartitionFencedException(string topic, IReadOnlyList<int> partitions)
    : Exception($"{topic}[{string.Join(",", partitions)}] is owned by a newer owner epoch now; this writer's claim is stale and it commits nothing")
{
    public string Topic { get; } = topic;

    public IReadOnlyList<int> Partitions { get; } = partitions;
}
