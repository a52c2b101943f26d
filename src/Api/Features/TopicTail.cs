using Confluent.Kafka;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Api.Features;

/// <summary>
/// A consumer that reads every partition of some topics without a consumer group's assignment: each API instance must
/// see every record (cache invalidation and model announcements are broadcasts, not work to share). Partitions are
/// assigned explicitly at the offsets resolved here, so nothing produced after <see cref="Open"/> returns is missed.
/// </summary>
public static class TopicTail
{
    public static IConsumer<byte[]?, byte[]?> Open(IKafkaClientSupplier kafka, string clientId, IReadOnlyList<string> topics, bool fromBeginning)
    {
        // A unique group id: offsets are never committed, and no other member shares the assignment.
        var consumer = kafka.CreateConsumer($"{clientId}-{Guid.NewGuid():N}", clientId);
        try
        {
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(15));
            var assignment = new List<TopicPartitionOffset>();
            foreach (var topic in topics)
            {
                var partitions = metadata.Topics.FirstOrDefault(t => t.Topic == topic && !t.Error.IsError)?.Partitions
                    ?? throw new InvalidOperationException($"topic {topic} does not exist on {kafka.BootstrapServers}");
                foreach (var p in partitions)
                {
                    var tp = new TopicPartition(topic, p.PartitionId);
                    var start = fromBeginning ? Offset.Beginning : consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(15)).High;
                    assignment.Add(new TopicPartitionOffset(tp, start));
                }
            }
            consumer.Assign(assignment);
            return consumer;
        }
        catch
        {
            consumer.Dispose();
            throw;
        }
    }
}
