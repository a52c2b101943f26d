namespace ReaSeq.Contracts.Stores;

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
