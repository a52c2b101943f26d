using Avro.Specific;
using Confluent.Kafka;
using ReaSeq.Contracts.Serialization;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>Publishes contract records with the configured framing (single-object or Confluent) through an idempotent producer.</summary>
public sealed class ContractProducer : IDisposable
{
    private readonly IProducer<byte[]?, byte[]?> _producer;
    private readonly ISchemaRegistry? _registry;
    private readonly Dictionary<Type, object> _serdes = new();
    private long _failed;

    public ContractProducer(IKafkaClientSupplier kafka, string clientId, ISchemaRegistry? registry = null)
    {
        _producer = kafka.CreateProducer(clientId);
        _registry = registry;
    }

    /// <summary>Deliveries that failed after librdkafka's own retries.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    public void Produce<T>(string topic, string key, T record) where T : ISpecificRecord, new()
    {
        var value = Serde<T>().Serialize(record);
        ProduceRaw(topic, System.Text.Encoding.UTF8.GetBytes(key), value);
    }

    public void ProduceRaw(string topic, byte[]? key, byte[]? value)
    {
        while (true)
        {
            try
            {
                _producer.Produce(topic, new Message<byte[]?, byte[]?> { Key = key, Value = value }, report =>
                {
                    if (report.Error.IsError) Interlocked.Increment(ref _failed);
                });
                return;
            }
            catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // Backpressure: the local queue is full, let librdkafka deliver some first.
                _producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    public void Flush(CancellationToken ct = default) => _producer.Flush(ct);

    private AvroSerde<T> Serde<T>() where T : ISpecificRecord, new()
    {
        lock (_serdes)
        {
            if (!_serdes.TryGetValue(typeof(T), out var serde)) _serdes[typeof(T)] = serde = new AvroSerde<T>(_registry);
            return (AvroSerde<T>)serde;
        }
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }
}
