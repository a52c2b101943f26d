using Avro.Specific;
using Confluent.Kafka;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Streaming.Operations;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>
/// Publishes contract records with the configured framing (single-object or Confluent) through an idempotent producer.
/// Records that a batch's state depends on are produced with that batch's <see cref="DeliveryTracker"/>, whose wait
/// fails when any of them is not delivered; <see cref="Flush"/> only serves publishers (replay, tests) that own their
/// producer and check <see cref="Failed"/>.
/// </summary>
public sealed class ContractProducer : IDisposable
{
    private readonly IProducer<byte[]?, byte[]?> _producer;
    private readonly ISchemaRegistry? _registry;
    private readonly Dictionary<Type, object> _serdes = new();
    private long _failed;
    private int _disposed;

    public ContractProducer(IKafkaClientSupplier kafka, string clientId, ISchemaRegistry? registry = null)
    {
        _producer = kafka.CreateProducer(clientId);
        _registry = registry;
    }

    /// <summary>Header with the source event's entry time (Unix ms, 8 bytes big-endian).</summary>
    public const string EnteredAtHeader = "reaseq-entered-at-ms";

    /// <summary>The entry time carried in <see cref="EnteredAtHeader"/>, if the record has one.</summary>
    public static Timestamp? EnteredAt(Headers? headers)
    {
        if (headers is null || !headers.TryGetLastBytes(EnteredAtHeader, out var bytes) || bytes is not { Length: 8 }) return null;
        return new Timestamp(System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(bytes), TimestampType.CreateTime);
    }

    /// <summary>Deliveries that failed after librdkafka's own retries.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    public void Produce<T>(string topic, string key, T record, DeliveryTracker? tracker = null) where T : ISpecificRecord, new()
    {
        var value = Serde<T>().Serialize(record);
        ProduceRaw(topic, System.Text.Encoding.UTF8.GetBytes(key), value, tracker);
    }

    /// <summary>
    /// Produces one record. With a tracker, its delivery is reported there (a failure fails the tracker's wait); a record
    /// the producer refuses outright (too large for the broker, ...) throws <see cref="DeliveryFailedException"/>.
    /// </summary>
    public void ProduceRaw(string topic, byte[]? key, byte[]? value, DeliveryTracker? tracker = null) => ProduceRaw(topic, key, value, tracker, null);

    /// <summary>
    /// As <see cref="ProduceRaw(string, byte[], byte[], DeliveryTracker)"/>; <paramref name="enteredAt"/>, when known, is
    /// when the event this record derives from entered the platform (its Kafka timestamp), carried in the
    /// <see cref="EnteredAtHeader"/> header so a later stage can measure freshness from the event (DESIGN §6).
    /// </summary>
    public void ProduceRaw(string topic, byte[]? key, byte[]? value, DeliveryTracker? tracker, Timestamp? enteredAt)
    {
        var what = $"record for {topic}";
        var track = tracker?.Track(what);
        var message = new Message<byte[]?, byte[]?> { Key = key, Value = value };
        if (enteredAt is { Type: not TimestampType.NotAvailable } entered)
            message.Headers = new Headers { { EnteredAtHeader, BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(entered.UnixTimestampMs)) } };
        // W3C trace context in the headers: the consumer's span continues this trace (only while something traces).
        using var span = StreamingTracing.StartPublish(topic, message);
        while (true)
        {
            try
            {
                _producer.Produce(topic, message, report =>
                {
                    if (report.Error.IsError)
                    {
                        Interlocked.Increment(ref _failed);
                        StreamingMetrics.BrokerError("producer", report.Error.Code);
                    }
                    else
                    {
                        StreamingMetrics.RecordDelivered(topic);
                    }
                    track?.Invoke(report);
                });
                return;
            }
            catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // Backpressure: the local queue is full, let librdkafka deliver some first.
                _producer.Poll(TimeSpan.FromMilliseconds(50));
            }
            catch (KafkaException e)
            {
                Interlocked.Increment(ref _failed);
                StreamingMetrics.BrokerError("producer", e.Error.Code);
                if (tracker is null) throw;
                tracker.Abandon(what, $"{e.Error.Code}: {e.Error.Reason}");
                throw new DeliveryFailedException(1, 1, $"{what} refused by the producer: {e.Error.Code}: {e.Error.Reason}");
            }
            catch (Exception e) when (tracker is not null)
            {
                tracker.Abandon(what, e.Message);
                throw;
            }
        }
    }

    /// <summary>Waits until the producer's queue is empty. Says nothing about success: use a <see cref="DeliveryTracker"/> for that.</summary>
    public void Flush(CancellationToken ct = default) => _producer.Flush(ct);

    private AvroSerde<T> Serde<T>() where T : ISpecificRecord, new()
    {
        lock (_serdes)
        {
            if (!_serdes.TryGetValue(typeof(T), out var serde)) _serdes[typeof(T)] = serde = new AvroSerde<T>(_registry);
            return (AvroSerde<T>)serde;
        }
    }

    /// <summary>Flushes for at most <paramref name="timeout"/> (a stopping process must not hang on an unreachable cluster) and closes.</summary>
    public void Dispose(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _producer.Flush(timeout);
        _producer.Dispose();
    }

    public void Dispose() => Dispose(TimeSpan.FromSeconds(10));
}
