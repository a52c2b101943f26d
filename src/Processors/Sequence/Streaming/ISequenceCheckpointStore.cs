namespace ReaSeq.Processors.Sequence.Streaming;

/// <summary>A partition's sequence state (snapshot bytes) stored together with the next offset it corresponds to.</summary>
public sealed record SequenceCheckpoint(string Topic, int Partition, long NextOffset, byte[] Snapshot);

public interface ISequenceCheckpointStore
{
    Task<SequenceCheckpoint?> LoadAsync(string consumerGroup, string topic, int partition, CancellationToken ct);

    /// <summary>Writes checkpoints (and their offsets) in one transaction.</summary>
    Task SaveAsync(string consumerGroup, IReadOnlyList<SequenceCheckpoint> checkpoints, CancellationToken ct);
}
