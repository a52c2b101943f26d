using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Ingestors.Ingest;

/// <summary>reaseq.impressions → labeled impressions kept for the trainer; a repeated impression_id counts once.</summary>
public sealed class ImpressionIngestor(AvroSerde<LabeledImpression> serde, ContractValidator validator, DeadLetterPublisher deadLetters,
    IImpressionStore store, IngestStats stats, KafkaOptions kafkaOptions)
    : IngestorBase<LabeledImpression>("ingest-impressions", Contracts.Topics.Impressions, serde, validator.Validate, deadLetters, store, stats, kafkaOptions)
{
    protected override async Task<(long Accepted, long Duplicates)> CommitAsync(IReadOnlyList<(ConsumeResult<byte[]?, byte[]?> Source, LabeledImpression Record)> valid,
        IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
    {
        var inserted = await store.CommitAsync(ConsumerGroup, valid.Select(v => v.Record).ToList(), offsets, ct);
        return (inserted, valid.Count - inserted);
    }
}
