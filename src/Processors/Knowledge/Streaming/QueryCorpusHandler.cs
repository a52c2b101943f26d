using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Knowledge.Guards;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// reaseq.queries → <c>category_queries</c>: the demand agent of §2.1.1 (layer 1) builds a category's demand taxonomy from
/// what users search for in it, so the knowledge role keeps those queries, recency-weighted and bounded per primary
/// category. A query's category may be a path ("Home > Lighting"); it counts for the primary level, where layer 1 runs.
/// Invalid records are dead-lettered; state and offsets commit in one transaction.
/// </summary>
public sealed class QueryCorpusHandler(AvroSerde<SearchQuery> serde, ContractValidator validator, DeadLetterPublisher deadLetters,
    PostgresQueryStore store, KafkaOptions kafkaOptions) : IBatchHandler
{
    public string Name => "knowledge-queries";

    public IReadOnlyList<string> Topics { get; } = [Contracts.Topics.Queries];

    private string Group => $"{kafkaOptions.GroupPrefix}.{Name}";

    /// <summary>Queries stored so far by this process (for the run summary and tests).</summary>
    public long Stored => Interlocked.Read(ref _stored);
    private long _stored;

    public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions) =>
        store.LoadOffsetsAsync(Group, partitions.Select(p => (p.Topic, p.Partition.Value)).ToList(), CancellationToken.None).GetAwaiter().GetResult()
            .ToDictionary(o => new TopicPartition(o.Topic, o.Partition), o => o.NextOffset);

    public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions) { } // no in-memory state

    public async Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken cancellationToken)
    {
        var deliveries = new DeliveryTracker();
        var next = new Dictionary<(string, int), long>();
        var occurrences = new List<(string Category, string Query, long TsMs)>(batch.Count);
        foreach (var result in batch)
        {
            next[(result.Topic, result.Partition.Value)] = result.Offset.Value + 1;
            try
            {
                var value = result.Message.Value;
                if (value is not null && value.Length > kafkaOptions.MaxRecordBytes)
                    throw new ContractException(ErrorClasses.Validation, $"record is {value.Length} bytes, limit {kafkaOptions.MaxRecordBytes}");
                var query = serde.Deserialize(value);
                validator.Validate(query);
                string primary = query.Category.Split('>', 2)[0].Trim();
                if (primary.Length == 0)
                    throw new ContractException(ErrorClasses.Validation, "a search query needs a category: the demand agent builds per category");
                string text = EvidenceGuard.Normalise(query.Text);
                occurrences.Add((primary, text, query.TsMs));
            }
            catch (ContractException e)
            {
                deadLetters.Publish(deliveries, result, Name, e);
            }
        }
        await deliveries.WaitAsync(cancellationToken);
        var offsets = next.Select(kv => new PartitionOffset(kv.Key.Item1, kv.Key.Item2, kv.Value)).ToList();
        await store.CommitAsync(Group, occurrences, offsets, cancellationToken);
        Interlocked.Add(ref _stored, occurrences.Count);
    }
}
