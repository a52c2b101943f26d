using Confluent.Kafka;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>
/// What a consumer group member does with its records. The loop calls it on one thread: assignment, batches and
/// revocation never overlap. A handler commits its state changes and the offsets that produced them atomically,
/// and returns those offsets from <see cref="OnAssigned"/> so a new owner resumes exactly where state ends.
/// </summary>
public interface IBatchHandler
{
    /// <summary>Name used for the consumer group ("{GroupPrefix}.{Name}") and in logs and metrics.</summary>
    string Name { get; }

    IReadOnlyList<string> Topics { get; }

    /// <summary>
    /// A tighter bound than Kafka:MaxBatchSize for handlers whose per-record work is slow (agent calls): progress, offsets
    /// and the work a crash repeats then move in small steps. Null: the loop's bound.
    /// </summary>
    int? MaxBatchSize => null;

    /// <summary>Partitions now owned: load their state; return the next offset to read for each partition that has one stored.</summary>
    IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions);

    /// <summary>Partitions no longer owned (revoked or lost): drop their in-memory state.</summary>
    void OnRevoked(IReadOnlyCollection<TopicPartition> partitions);

    /// <summary>
    /// Partitions taken away without a revoke (session lost): another member may own them already, so nothing of them may
    /// be written any more; drop their state. Default: <see cref="OnRevoked"/>.
    /// </summary>
    void OnLost(IReadOnlyCollection<TopicPartition> partitions) => OnRevoked(partitions);

    /// <summary>
    /// For handlers whose state becomes durable later than its batch (periodic checkpoints): the next offset up to which
    /// the partition's state is durable now (0: nothing yet). The loop never commits a Kafka offset beyond it. Null
    /// (default): every handled batch is durable when <see cref="HandleBatchAsync"/> returns.
    /// </summary>
    long? DurableOffset(TopicPartition partition) => null;

    /// <summary>Handles one batch (records of owned partitions, in partition order). Must not return before its state is durable.</summary>
    Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken cancellationToken);

    /// <summary>Called when a poll found nothing (at most every few hundred ms): time for deferred work such as checkpoints.</summary>
    Task OnIdleAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
