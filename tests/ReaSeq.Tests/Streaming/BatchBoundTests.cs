using System.Collections.Concurrent;
using Confluent.Kafka;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Streaming;

/// <summary>A handler with slow per-record work (the knowledge role) bounds its own batches below Kafka:MaxBatchSize.</summary>
[Trait(Tier.Name, Tier.Integration)]
[Collection(PlatformCollection.Name)]
public sealed class BatchBoundTests(PostgresFixture postgres)
{
    [Fact]
    public async Task The_loop_never_hands_a_handler_more_records_than_its_own_bound()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 1);
        const string topic = "batch-bound-test";
        platform.Broker.CreateTopic(topic, 1);
        using (var producer = platform.Kafka.CreateProducer("batch-bound-producer"))
        {
            for (var i = 0; i < 500; i++) producer.Produce(topic, new Message<byte[]?, byte[]?> { Key = [1], Value = [(byte)i] });
            producer.Flush(TimeSpan.FromSeconds(10));
        }
        var handler = new RecordingHandler(topic, maxBatchSize: 16);
        platform.Run(handler, "bound");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(handler.Records == 500), TimeSpan.FromSeconds(30), "all 500 records handled");
        Assert.True(handler.Batches.Max() <= 16, $"largest batch {handler.Batches.Max()}");
        Assert.Equal(500, handler.Batches.Sum());
    }

    private sealed class RecordingHandler(string topic, int maxBatchSize) : IBatchHandler
    {
        private int _records;

        public ConcurrentQueue<int> Batches { get; } = new();
        public int Records => Volatile.Read(ref _records);
        public string Name => "batch-bound";
        public IReadOnlyList<string> Topics { get; } = [topic];
        public int? MaxBatchSize => maxBatchSize;

        public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions) =>
            new Dictionary<TopicPartition, long>();

        public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions) { }

        public Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken cancellationToken)
        {
            Batches.Enqueue(batch.Count);
            Interlocked.Add(ref _records, batch.Count);
            return Task.CompletedTask;
        }
    }
}
