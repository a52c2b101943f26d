namespace ReaSeq.Processors.Sequence.Streaming;

/// <summary>
/// A partition's sequence state stored together with the next offset it corresponds to: <see cref="Snapshot"/> holds the
/// partition's model, thresholds and statistics; its users are rows of their own, of which a checkpoint carries only
/// those changed since the previous one (<see cref="Users"/>). <see cref="OwnerEpoch"/> is the writer's claim on the partition.
/// </summary>
public sealed record SequenceCheckpoint(string Topic, int Partition, long NextOffset, byte[] Snapshot)
{
    public long OwnerEpoch { get; init; }

    public IReadOnlyList<KeyValuePair<string, byte[]>> Users { get; init; } = [];
}

public interface ISequenceCheckpointStore
{
    /// <summary>Claims partitions for this owner (bumps their owner epochs); returns the epoch owned per partition.</summary>
    Task<IReadOnlyDictionary<int, long>> ClaimAsync(string consumerGroup, string topic, IReadOnlyCollection<int> partitions, CancellationToken ct);

    Task<SequenceCheckpoint?> LoadAsync(string consumerGroup, string topic, int partition, CancellationToken ct);

    /// <summary>Snapshots of the users that have rows (evicted or checkpointed), by user id; unknown ids are left out.</summary>
    Task<IReadOnlyList<byte[]>> LoadUsersAsync(string consumerGroup, IReadOnlyCollection<string> userIds, CancellationToken ct);

    /// <summary>
    /// Writes checkpoints, their users and their offsets in one transaction, only while every partition's owner epoch is
    /// still the checkpoint's (else <see cref="ReaSeq.Ingestors.Streaming.PartitionFencedException"/>, nothing written).
    /// </summary>
    Task SaveAsync(string consumerGroup, IReadOnlyList<SequenceCheckpoint> checkpoints, CancellationToken ct);
}
