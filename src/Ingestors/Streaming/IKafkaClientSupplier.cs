using Confluent.Kafka;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>
/// The one place Kafka clients are made. Processors ask for clients here, so the same code runs against the
/// embedded broker in tests and against a real cluster in production.
/// </summary>
public interface IKafkaClientSupplier
{
    string BootstrapServers { get; }

    bool IsEmbedded { get; }

    /// <summary>An idempotent producer (acks=all, enable.idempotence): retries never duplicate a record.</summary>
    IProducer<byte[]?, byte[]?> CreateProducer(string clientId);

    /// <summary>A consumer of the group with manual offsets and cooperative-sticky assignment.</summary>
    IConsumer<byte[]?, byte[]?> CreateConsumer(string groupId, string clientId, Action<ConsumerBuilder<byte[]?, byte[]?>>? configure = null);
}
