using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Ingestors.Ingest;

/// <summary>reaseq.item-updates → the item catalog (latest update per item).</summary>
public sealed class ItemIngestor(AvroSerde<ItemUpdate> serde, ContractValidator validator, DeadLetterPublisher deadLetters,
    ICatalogStore catalog, IngestStats stats, KafkaOptions kafkaOptions)
    : IngestorBase<ItemUpdate>("ingest-items", Contracts.Topics.ItemUpdates, serde, validator.Validate, deadLetters, catalog, stats, kafkaOptions)
{
    protected override async Task<(long Accepted, long Duplicates)> CommitAsync(IReadOnlyList<(ConsumeResult<byte[]?, byte[]?> Source, ItemUpdate Record)> valid,
        IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
    {
        await catalog.CommitAsync(ConsumerGroup, valid.Select(v => v.Record).ToList(), offsets, ct);
        return (valid.Count, 0);
    }
}
