using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>
/// Sends records the platform cannot accept to reaseq.dlq with their origin, (bounded) raw bytes and reason.
/// Each dead letter belongs to the caller's batch (<see cref="DeliveryTracker"/>): the batch waits for its own letters
/// before its state commits and fails when one is not delivered, so a crash or an outage can repeat a letter (same
/// source topic/partition/offset: easy to de-duplicate) but never lose one. The publisher is shared by every loop of
/// the process; no loop's wait depends on another's letters.
/// A letter carries at most <see cref="KafkaOptions.DeadLetterMaxValueBytes"/> of the value (with the original size and
/// its SHA-256), so even a record at the broker's size limit yields a letter the broker accepts.
/// </summary>
public sealed class DeadLetterPublisher : IDisposable
{
    /// <summary>Longest key kept in a letter (and used as its Kafka key); longer keys are cut and the message says so.</summary>
    public const int MaxKeyBytes = 4_096;

    private static readonly Meter Meter = new("ReaSeq.Ingest");
    private static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("reaseq_dead_letters_total", description: "Records sent to the dead-letter topic");

    private readonly ContractProducer _producer;
    private readonly AvroSerde<DeadLetter> _serde;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly int _maxValueBytes;
    private long _count;

    public DeadLetterPublisher(IKafkaClientSupplier kafka, AvroSerde<DeadLetter> serde, ILogger<DeadLetterPublisher> logger,
        KafkaOptions? options = null, TimeProvider? clock = null)
    {
        _producer = new ContractProducer(kafka, "reaseq-dlq");
        _serde = serde;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        _maxValueBytes = (options ?? new KafkaOptions()).DeadLetterMaxValueBytes;
    }

    /// <summary>Dead letters published (whatever their delivery).</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>The letter for a record, with its value and key bounded.</summary>
    public DeadLetter Create(ConsumeResult<byte[]?, byte[]?> source, string processor, string errorClass, string message)
    {
        var value = source.Message.Value;
        var key = source.Message.Key;
        var notes = "";
        if (value is not null && value.Length > _maxValueBytes) notes += $" [value truncated to {_maxValueBytes} of {value.Length} bytes]";
        if (key is not null && key.Length > MaxKeyBytes) notes += $" [key truncated to {MaxKeyBytes} of {key.Length} bytes]";
        var text = message.Length > 2_000 ? message[..2_000] : message;
        return new DeadLetter
        {
            SourceTopic = source.Topic,
            SourcePartition = source.Partition.Value,
            SourceOffset = source.Offset.Value,
            Key = key is not null && key.Length > MaxKeyBytes ? key[..MaxKeyBytes] : key,
            Value = value is not null && value.Length > _maxValueBytes ? value[.._maxValueBytes] : value,
            ErrorClass = errorClass,
            Message = text + notes,
            Processor = processor,
            TsMs = _clock.GetUtcNow().ToUnixTimeMilliseconds(),
            ValueBytes = value?.Length,
            ValueSha256 = value is null ? null : Convert.ToHexStringLower(SHA256.HashData(value)),
            ValueTruncated = value is not null && value.Length > _maxValueBytes,
        };
    }

    /// <summary>Dead-letters a record as part of the caller's batch: the batch's <paramref name="batch"/> wait reports its delivery.</summary>
    public void Publish(DeliveryTracker batch, ConsumeResult<byte[]?, byte[]?> source, string processor, string errorClass, string message)
    {
        var letter = Create(source, processor, errorClass, message);
        _producer.ProduceRaw(Topics.DeadLetters, letter.Key, _serde.Serialize(letter), batch);
        Interlocked.Increment(ref _count);
        DeadLetters.Add(1, new KeyValuePair<string, object?>("processor", processor), new KeyValuePair<string, object?>("error_class", errorClass));
        _logger.LogDebug("Dead letter {Topic}/{Partition}@{Offset}: {ErrorClass}: {Message}", source.Topic, source.Partition.Value, source.Offset.Value, errorClass, letter.Message);
    }

    public void Publish(DeliveryTracker batch, ConsumeResult<byte[]?, byte[]?> source, string processor, ContractException error) =>
        Publish(batch, source, processor, error.ErrorClass, error.Message);

    public void Dispose() => _producer.Dispose(TimeSpan.FromSeconds(5));
}
