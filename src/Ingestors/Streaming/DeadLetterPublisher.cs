using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>
/// Sends records the platform cannot accept to reaseq.dlq with their origin, raw bytes and reason.
/// Dead letters are produced and flushed before the batch's state commits, so a crash can repeat one
/// (same source topic/partition/offset: easy to de-duplicate) but never lose one.
/// </summary>
public sealed class DeadLetterPublisher : IDisposable
{
    private static readonly Meter Meter = new("ReaSeq.Ingest");
    private static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("reaseq_dead_letters_total", description: "Records sent to the dead-letter topic");

    private readonly IProducer<byte[]?, byte[]?> _producer;
    private readonly AvroSerde<DeadLetter> _serde;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private long _count;
    private int _pending; // touched with Interlocked: several consumer loops share one publisher

    public DeadLetterPublisher(IKafkaClientSupplier kafka, AvroSerde<DeadLetter> serde, ILogger<DeadLetterPublisher> logger, TimeProvider? clock = null)
    {
        _producer = kafka.CreateProducer("reaseq-dlq");
        _serde = serde;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
    }

    public long Count => Interlocked.Read(ref _count);

    public void Publish(ConsumeResult<byte[]?, byte[]?> source, string processor, string errorClass, string message)
    {
        var letter = new DeadLetter
        {
            SourceTopic = source.Topic,
            SourcePartition = source.Partition.Value,
            SourceOffset = source.Offset.Value,
            Key = source.Message.Key,
            Value = source.Message.Value,
            ErrorClass = errorClass,
            Message = message.Length > 2_000 ? message[..2_000] : message,
            Processor = processor,
            TsMs = _clock.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        _producer.Produce(Topics.DeadLetters, new Message<byte[]?, byte[]?> { Key = source.Message.Key, Value = _serde.Serialize(letter) }, report =>
        {
            if (report.Error.IsError) _logger.LogError("Dead letter for {Topic}/{Partition}@{Offset} not delivered: {Reason}", source.Topic, source.Partition.Value, source.Offset.Value, report.Error.Reason);
        });
        Interlocked.Increment(ref _pending);
        Interlocked.Increment(ref _count);
        DeadLetters.Add(1, new KeyValuePair<string, object?>("processor", processor), new KeyValuePair<string, object?>("error_class", errorClass));
        _logger.LogDebug("Dead letter {Topic}/{Partition}@{Offset}: {ErrorClass}: {Message}", source.Topic, source.Partition.Value, source.Offset.Value, errorClass, letter.Message);
    }

    public void Publish(ConsumeResult<byte[]?, byte[]?> source, string processor, ContractException error) =>
        Publish(source, processor, error.ErrorClass, error.Message);

    /// <summary>Waits until every dead letter published so far is acknowledged; called before committing state.</summary>
    public void Flush(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _pending, 0) == 0) return;
        _producer.Flush(ct);

    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
