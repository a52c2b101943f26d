using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Models.Dllm;

namespace ReaSeq.Processors.Dllm;

/// <summary>
/// The training-data job of the dllm role (consumer group "{prefix}.dllm-train"): keeps each user's newest window
/// that holds a self-supervised labeled position (paper §3.2.1) in PostgreSQL, committed with the offsets that
/// produced it. It publishes nothing; records the filling job dead-letters are merely skipped here, so a bad record
/// yields one dead letter, not two.
/// </summary>
public sealed class DllmCollector(AvroSerde<SequenceUpdate> serde, DllmStore store, DllmOptions options, LladaTinyOptions model,
    KafkaOptions kafkaOptions, DllmMetrics metrics) : IBatchHandler
{
    private long _consumed;
    private long _kept;

    public string Name => "dllm-train";

    public IReadOnlyList<string> Topics { get; } = [options.InputTopic];

    private string Group => $"{kafkaOptions.GroupPrefix}.{Name}";

    /// <summary>Records handled (any outcome).</summary>
    public long Consumed => Interlocked.Read(ref _consumed);

    /// <summary>Labeled windows written (a user's newer window replaces the older).</summary>
    public long Kept => Interlocked.Read(ref _kept);

    public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions) =>
        PgOffsets.LoadAsync(store.Database, Group, partitions.Select(p => (p.Topic, p.Partition.Value)).ToList(), CancellationToken.None)
            .GetAwaiter().GetResult().ToDictionary(o => new TopicPartition(o.Topic, o.Partition), o => o.NextOffset);

    public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions)
    {
    }

    public async Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken ct)
    {
        var windows = new List<GapWindow>();
        var offsets = new Dictionary<(string, int), long>();
        foreach (var r in batch)
        {
            offsets[(r.Topic, r.Partition.Value)] = r.Offset.Value + 1;
            if (r.Message.Value is { } value && value.Length > kafkaOptions.MaxRecordBytes) continue;
            try
            {
                var window = GapWindow.From(serde.Deserialize(r.Message.Value), options.MaxWindow, model.MaxLength);
                if (window.Labeled.Count > 0) windows.Add(window);
            }
            catch (ContractException)
            {
                // The filling job dead-letters it with the reason.
            }
        }
        await store.SaveWindowsAsync(Group, windows, offsets.Select(o => new PartitionOffset(o.Key.Item1, o.Key.Item2, o.Value)).ToList(), ct);
        Interlocked.Add(ref _kept, windows.Count);
        Interlocked.Add(ref _consumed, batch.Count);
        metrics.TrainingWindows(await store.CountWindowsAsync(ct));
    }
}
