using System.Collections.Concurrent;
using System.Diagnostics;
using Avro.Specific;
using Confluent.Kafka;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Ingestors.Ingest;

/// <summary>
/// Shared part of every ingestor: decode, bound and validate each record, dead-letter what fails with its reason,
/// and hand the valid ones with the batch's next offsets to <see cref="CommitAsync"/>, which stores both in one
/// transaction. Bad records never stop the batch and valid ones around them are never lost.
/// </summary>
public abstract class IngestorBase<T>(
    string name,
    string topic,
    AvroSerde<T> serde,
    Action<T> validate,
    DeadLetterPublisher deadLetters,
    IOffsetStore offsetStore,
    IngestStats stats,
    KafkaOptions kafkaOptions) : IBatchHandler where T : ISpecificRecord, new()
{
    public string Name => name;

    public IReadOnlyList<string> Topics { get; } = [topic];

    // Owner epochs of the partitions this consumer claimed; written with every offset so a stale owner commits nothing.
    private readonly ConcurrentDictionary<(string Topic, int Partition), long> _epochs = new();

    protected string ConsumerGroup => $"{kafkaOptions.GroupPrefix}.{name}";

    public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        // Runs on the consumer's thread inside the rebalance callback: blocking here holds the rebalance until
        // state is loaded, which is what makes the resume point and the state agree. Claiming fences the previous owner
        // (issue 8 B5), which may still be finishing a batch after losing the partitions in a long stall.
        var claimed = offsetStore.ClaimOffsetsAsync(ConsumerGroup, partitions.Select(p => (p.Topic, p.Partition.Value)).ToList(), CancellationToken.None)
            .GetAwaiter().GetResult();
        foreach (var c in claimed) _epochs[(c.Topic, c.Partition)] = c.OwnerEpoch;
        LoadStateAsync(partitions.Select(p => p.Partition.Value).ToList(), CancellationToken.None).GetAwaiter().GetResult();
        return claimed.ToDictionary(o => new TopicPartition(o.Topic, o.Partition), o => o.NextOffset);
    }

    public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions)
    {
        foreach (var p in partitions) _epochs.TryRemove((p.Topic, p.Partition.Value), out _);
        DropState(partitions.Select(p => p.Partition.Value).ToList());
    }

    public async Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var deliveries = new DeliveryTracker();
        var valid = new List<(ConsumeResult<byte[]?, byte[]?> Source, T Record)>(batch.Count);
        var next = new Dictionary<(string, int), long>();
        long rejected = 0;
        foreach (var result in batch)
        {
            next[(result.Topic, result.Partition.Value)] = result.Offset.Value + 1;
            var value = result.Message.Value;
            try
            {
                if (value is not null && value.Length > kafkaOptions.MaxRecordBytes)
                    throw new ContractException(ErrorClasses.Validation, $"record is {value.Length} bytes, limit {kafkaOptions.MaxRecordBytes}");
                var record = serde.Deserialize(value);
                validate(record);
                ValidateSource(result, record);
                valid.Add((result, record));
            }
            catch (ContractException e)
            {
                deadLetters.Publish(deliveries, result, name, e);
                rejected++;
            }
        }
        // This batch's dead letters are delivered before its offsets commit; one that is not fails the batch (retried).
        await deliveries.WaitAsync(ct);
        var offsets = next.Select(kv => new PartitionOffset(kv.Key.Item1, kv.Key.Item2, kv.Value) { OwnerEpoch = _epochs.GetValueOrDefault(kv.Key) }).ToList();
        var (accepted, duplicates) = await CommitAsync(valid, offsets, ct);
        stats.Record(topic, batch.Count, accepted, duplicates, rejected, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>Checks what the record says against where it came from (its key); throws <see cref="ContractException"/>.</summary>
    protected virtual void ValidateSource(ConsumeResult<byte[]?, byte[]?> source, T record) { }

    /// <summary>Loads the in-memory state of newly owned partitions (nothing for stateless ingestors).</summary>
    protected virtual Task LoadStateAsync(IReadOnlyList<int> partitions, CancellationToken ct) => Task.CompletedTask;

    /// <summary>Forgets the in-memory state of partitions no longer owned.</summary>
    protected virtual void DropState(IReadOnlyList<int> partitions) { }

    /// <summary>Stores the valid records and the offsets in one transaction; returns (accepted, duplicates).</summary>
    protected abstract Task<(long Accepted, long Duplicates)> CommitAsync(
        IReadOnlyList<(ConsumeResult<byte[]?, byte[]?> Source, T Record)> valid, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct);
}
