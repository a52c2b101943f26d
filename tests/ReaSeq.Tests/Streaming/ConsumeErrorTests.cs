using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Streaming;

/// <summary>
/// Issue 8 G, the broker scenario's stall: a fetch answered with REQUEST_TIMED_OUT reaches the application as a
/// ConsumeException out of the poll. The loop ended on the first one (its consumer closed and left the group for good,
/// nothing logged), so whichever role's consumer drew the injected errors stopped for ever. The client retries such a
/// fetch by itself; the loop must go on.
/// </summary>
[Trait(Tier.Name, Tier.Integration)]
[Collection(PlatformCollection.Name)]
public sealed class ConsumeErrorTests(PostgresFixture postgres)
{
    private const short Fetch = 1;
    private const int RequestTimedOut = 7;

    [Fact]
    public async Task Fetch_errors_handed_to_the_poll_do_not_end_the_loop()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 3);
        const string topic = "consume-error-test";
        platform.Broker.CreateTopic(topic, 3);
        using var producer = platform.Kafka.CreateProducer("consume-error-producer");
        void Produce(int from, int to)
        {
            for (var i = from; i < to; i++) producer.Produce(topic, new Message<byte[]?, byte[]?> { Key = [(byte)i], Value = BitConverter.GetBytes(i) });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var handler = new CountingHandler(topic);
        using var stop = new CancellationTokenSource();
        var loop = Task.Factory.StartNew(
            () => new BatchConsumerLoop(platform.Kafka, platform.KafkaOptions, NullLogger.Instance, platform.Health).RunAsync(handler, "errors", stop.Token),
            stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        try
        {
            Produce(0, 100);
            await TestPlatform.WaitUntilAsync(() => Task.FromResult(handler.Records == 100), TimeSpan.FromSeconds(30), "the first 100 records");

            // The next fetches (this loop's consumer is the only one fetching) are answered REQUEST_TIMED_OUT.
            platform.Broker.PushRequestErrors(Fetch, Enumerable.Repeat(RequestTimedOut, 12).ToArray());
            await Task.Delay(1_000);
            Assert.False(loop.IsCompleted, $"the loop ended on fetch errors: {loop.Exception?.GetBaseException().Message}");

            Produce(100, 200);
            await TestPlatform.WaitUntilAsync(() => Task.FromResult(handler.Records == 200), TimeSpan.FromSeconds(30),
                $"the records after the fetch errors (loop {(loop.IsCompleted ? "ended: " + loop.Exception?.GetBaseException().Message : "running")})");
            Assert.False(loop.IsCompleted);
        }
        finally
        {
            await stop.CancelAsync();
            await loop.WaitAsync(TimeSpan.FromSeconds(15)).ContinueWith(_ => { }, TaskScheduler.Default);
            platform.Broker.ClearRequestErrors(Fetch);
        }
    }

    private sealed class CountingHandler(string topic) : IBatchHandler
    {
        private readonly HashSet<(int, long)> _seen = [];
        private int _records;

        public int Records => Volatile.Read(ref _records);
        public string Name => "consume-errors";
        public IReadOnlyList<string> Topics { get; } = [topic];

        public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions) =>
            new Dictionary<TopicPartition, long>();

        public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions) { }

        public Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken cancellationToken)
        {
            // Distinct records: a re-delivery after a rebalance is not counted twice.
            lock (_seen)
            {
                foreach (var r in batch)
                    if (_seen.Add((r.Partition.Value, r.Offset.Value))) Interlocked.Increment(ref _records);
            }
            return Task.CompletedTask;
        }
    }
}
