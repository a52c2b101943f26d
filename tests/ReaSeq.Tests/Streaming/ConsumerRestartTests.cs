using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Ingestors.Streaming.Operations;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Streaming;

/// <summary>
/// Issue 8 G: a consumer that fails with anything but a non-fatal ConsumeException is closed and replaced after a
/// backoff, with reaseq_consumer_restarts_total counted and the job unhealthy until the new consumer is assigned.
/// librdkafka's mock cluster cannot raise a fatal consumer error, so only that error is a test double: the one consumer
/// the supplier hands out first throws, once, what a fatal error looks like out of the real client's poll (a
/// ConsumeException whose Error is fatal). Everything else, the group's rebalances included, runs on the embedded broker.
/// </summary>
[Trait(Tier.Name, Tier.Integration)]
[Collection(PlatformCollection.Name)]
public sealed class ConsumerRestartTests(PostgresFixture postgres)
{
    private const int Records = 300;

    [Fact]
    public async Task A_fatal_consumer_error_replaces_the_consumer_and_every_record_is_handled_exactly_once()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 3);
        const string topic = "consumer-restart-test";
        platform.Broker.CreateTopic(topic, 3);
        var handler = new DurableOffsetsHandler(topic);
        var group = $"{platform.KafkaOptions.GroupPrefix}.{handler.Name}";
        // Mid-stream: the loop holds a partly filled batch (and maybe one in flight) that the new consumer must re-read
        // from the handler's stored offsets, neither skipping nor repeating any of it.
        var kafka = new FailingOnceSupplier(platform.Kafka, failAfterRecords: Records / 2 + 5);
        var health = new RecordingHealth();
        using var restarts = new RestartCounter(group);

        using var producer = platform.Kafka.CreateProducer("consumer-restart-producer");
        for (var i = 0; i < Records; i++)
            producer.Produce(topic, new Message<byte[]?, byte[]?> { Key = BitConverter.GetBytes(i), Value = BitConverter.GetBytes(i) });
        producer.Flush(TimeSpan.FromSeconds(10));

        using var stop = new CancellationTokenSource();
        var loop = Task.Factory.StartNew(
            () => new BatchConsumerLoop(kafka, platform.KafkaOptions, NullLogger.Instance, health).RunAsync(handler, "restart", stop.Token),
            stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        try
        {
            try
            {
                await TestPlatform.WaitUntilAsync(() => Task.FromResult(handler.Distinct == Records), TimeSpan.FromSeconds(60), "every record after the restart");
            }
            catch (TimeoutException e)
            {
                // The state at the timeout, not at the start of the wait.
                throw new TimeoutException($"{e.Message} ({handler.Distinct} handled, {kafka.Created} consumers, failed: {kafka.Failed}, " +
                    $"loop {(loop.IsCompleted ? "ended: " + loop.Exception?.GetBaseException().Message : "running")})", e);
            }

            Assert.True(kafka.Failed, "the injected fatal error was never raised");
            Assert.Equal(2, kafka.Created);
            Assert.False(loop.IsCompleted, $"the loop ended: {loop.Exception?.GetBaseException().Message}");
            Assert.Equal(1, restarts.Total);
            Assert.Equal(new[] { "broker" }, restarts.Causes);

            // Unhealthy from the failure until the new consumer's first assignment, healthy from then on.
            var events = health.Events;
            var stalled = events.IndexOf("stalled");
            Assert.True(stalled >= 0, string.Join(", ", events));
            var assigned = events.IndexOf("assigned", stalled);
            Assert.True(assigned > stalled, string.Join(", ", events));
            Assert.Equal("healthy", events[assigned + 1]);
            Assert.True(health.IsHealthy);
        }
        finally
        {
            await stop.CancelAsync();
            await loop.WaitAsync(TimeSpan.FromSeconds(15)).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        // Exactly once: each offset of each partition handled once, and every produced record among them.
        Assert.Empty(handler.Repeated);
        Assert.Equal(Enumerable.Range(0, Records), handler.Values.Order());
    }

    /// <summary>
    /// A handler whose state is its set of handled records plus the next offset per partition, committed together
    /// (the contract of <see cref="IBatchHandler"/>); it outlives the consumers, as a handler's database does.
    /// </summary>
    private sealed class DurableOffsetsHandler(string topic) : IBatchHandler
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<TopicPartition, long> _next = [];
        private readonly Dictionary<(int Partition, long Offset), int> _handled = [];
        private readonly List<int> _values = [];

        public string Name => "consumer-restart";
        public IReadOnlyList<string> Topics { get; } = [topic];
        // Small batches: the failure meets the loop between batches, with records consumed but not yet handed over.
        public int? MaxBatchSize => 10;

        public int Distinct
        {
            get { lock (_gate) return _handled.Count; }
        }

        public IReadOnlyList<(int Partition, long Offset)> Repeated
        {
            get { lock (_gate) return _handled.Where(h => h.Value > 1).Select(h => h.Key).ToList(); }
        }

        public IReadOnlyList<int> Values
        {
            get { lock (_gate) return [.. _values]; }
        }

        public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions)
        {
            lock (_gate) return partitions.Where(_next.ContainsKey).ToDictionary(tp => tp, tp => _next[tp]);
        }

        public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions) { }

        public Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                foreach (var r in batch)
                {
                    var key = (r.Partition.Value, r.Offset.Value);
                    _handled[key] = _handled.GetValueOrDefault(key) + 1;
                    _values.Add(BitConverter.ToInt32(r.Message.Value));
                    _next[r.TopicPartition] = r.Offset.Value + 1;
                }
            }
            return Task.CompletedTask;
        }
    }

    /// <summary>The embedded broker's supplier, except that its first consumer's poll fails fatally once.</summary>
    private sealed class FailingOnceSupplier(IKafkaClientSupplier inner, int failAfterRecords) : IKafkaClientSupplier
    {
        private int _created;

        public int Created => Volatile.Read(ref _created);
        public bool Failed { get; private set; }
        public string BootstrapServers => inner.BootstrapServers;
        public bool IsEmbedded => inner.IsEmbedded;

        public IProducer<byte[]?, byte[]?> CreateProducer(string clientId) => inner.CreateProducer(clientId);

        public IConsumer<byte[]?, byte[]?> CreateConsumer(string groupId, string clientId, Action<ConsumerBuilder<byte[]?, byte[]?>>? configure = null)
        {
            var consumer = inner.CreateConsumer(groupId, clientId, configure);
            return Interlocked.Increment(ref _created) == 1 ? new FailingConsumer(consumer, failAfterRecords, () => Failed = true) : consumer;
        }
    }

    /// <summary>
    /// Delegates to a real consumer; once <paramref name="failAfterRecords"/> records came out of its polls, the next
    /// poll throws what librdkafka's poll throws on a fatal error (ConsumeException, Error.IsFatal).
    /// </summary>
    private sealed class FailingConsumer(IConsumer<byte[]?, byte[]?> inner, int failAfterRecords, Action failed) : IConsumer<byte[]?, byte[]?>
    {
        private int _returned;

        public ConsumeResult<byte[]?, byte[]?> Consume(TimeSpan timeout)
        {
            if (_returned >= failAfterRecords)
            {
                failed();
                throw new ConsumeException(new ConsumeResult<byte[], byte[]>(), new Error(ErrorCode.Local_Fatal, "injected fatal consumer error", true));
            }
            var result = inner.Consume(timeout);
            if (result is { IsPartitionEOF: false }) _returned++;
            return result;
        }

        public ConsumeResult<byte[]?, byte[]?> Consume(int millisecondsTimeout) => Consume(TimeSpan.FromMilliseconds(millisecondsTimeout));
        public ConsumeResult<byte[]?, byte[]?> Consume(CancellationToken cancellationToken = default) => inner.Consume(cancellationToken);
        public string MemberId => inner.MemberId;
        public List<TopicPartition> Assignment => inner.Assignment;
        public List<string> Subscription => inner.Subscription;
        public IConsumerGroupMetadata ConsumerGroupMetadata => inner.ConsumerGroupMetadata;
        public Handle Handle => inner.Handle;
        public string Name => inner.Name;
        public void Subscribe(IEnumerable<string> topics) => inner.Subscribe(topics);
        public void Subscribe(string topic) => inner.Subscribe(topic);
        public void Unsubscribe() => inner.Unsubscribe();
        public void Assign(TopicPartition partition) => inner.Assign(partition);
        public void Assign(TopicPartitionOffset partition) => inner.Assign(partition);
        public void Assign(IEnumerable<TopicPartitionOffset> partitions) => inner.Assign(partitions);
        public void Assign(IEnumerable<TopicPartition> partitions) => inner.Assign(partitions);
        public void IncrementalAssign(IEnumerable<TopicPartitionOffset> partitions) => inner.IncrementalAssign(partitions);
        public void IncrementalAssign(IEnumerable<TopicPartition> partitions) => inner.IncrementalAssign(partitions);
        public void IncrementalUnassign(IEnumerable<TopicPartition> partitions) => inner.IncrementalUnassign(partitions);
        public void Unassign() => inner.Unassign();
        public void StoreOffset(ConsumeResult<byte[]?, byte[]?> result) => inner.StoreOffset(result);
        public void StoreOffset(TopicPartitionOffset offset) => inner.StoreOffset(offset);
        public List<TopicPartitionOffset> Commit() => inner.Commit();
        public void Commit(IEnumerable<TopicPartitionOffset> offsets) => inner.Commit(offsets);
        public void Commit(ConsumeResult<byte[]?, byte[]?> result) => inner.Commit(result);
        public void Seek(TopicPartitionOffset tpo) => inner.Seek(tpo);
        public void Pause(IEnumerable<TopicPartition> partitions) => inner.Pause(partitions);
        public void Resume(IEnumerable<TopicPartition> partitions) => inner.Resume(partitions);
        public List<TopicPartitionOffset> Committed(TimeSpan timeout) => inner.Committed(timeout);
        public List<TopicPartitionOffset> Committed(IEnumerable<TopicPartition> partitions, TimeSpan timeout) => inner.Committed(partitions, timeout);
        public Offset Position(TopicPartition partition) => inner.Position(partition);
        public List<TopicPartitionOffset> OffsetsForTimes(IEnumerable<TopicPartitionTimestamp> timestampsToSearch, TimeSpan timeout) =>
            inner.OffsetsForTimes(timestampsToSearch, timeout);
        public WatermarkOffsets GetWatermarkOffsets(TopicPartition topicPartition) => inner.GetWatermarkOffsets(topicPartition);
        public WatermarkOffsets QueryWatermarkOffsets(TopicPartition topicPartition, TimeSpan timeout) => inner.QueryWatermarkOffsets(topicPartition, timeout);
        public int AddBrokers(string brokers) => inner.AddBrokers(brokers);
        public void SetSaslCredentials(string username, string password) => inner.SetSaslCredentials(username, password);
        public void Close() => inner.Close();
        public void Dispose() => inner.Dispose();
    }

    /// <summary>A <see cref="RoleHealth"/> that also keeps the order of the loop's reports.</summary>
    private sealed class RecordingHealth : IRoleHealth
    {
        private readonly RoleHealth _inner = new();
        private readonly ConcurrentQueue<string> _events = new();

        public List<string> Events => [.. _events];
        public bool IsHealthy => _inner.IsHealthy;
        public IReadOnlyList<StalledHandler> Stalled => _inner.Stalled;

        public void ReportStalled(string handler, int attempts, Exception error)
        {
            _events.Enqueue("stalled");
            _inner.ReportStalled(handler, attempts, error);
        }

        public void ReportHealthy(string handler)
        {
            _events.Enqueue("healthy");
            _inner.ReportHealthy(handler);
        }

        public void ReportAssigned(string handler, int partitions)
        {
            _events.Enqueue("assigned");
            _inner.ReportAssigned(handler, partitions);
        }
    }

    /// <summary>reaseq_consumer_restarts_total measurements of one consumer group (other tests' groups are ignored).</summary>
    private sealed class RestartCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<string> _causes = new();

        public RestartCounter(string group)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == StreamingMetrics.MeterName && instrument.Name == "reaseq_consumer_restarts_total")
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                string? g = null, cause = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "group") g = tag.Value?.ToString();
                    else if (tag.Key == "cause") cause = tag.Value?.ToString();
                }
                if (g != group) return;
                for (var i = 0; i < value; i++) _causes.Enqueue(cause ?? "");
            });
            _listener.Start();
        }

        public int Total => _causes.Count;
        public List<string> Causes => [.. _causes];

        public void Dispose() => _listener.Dispose();
    }
}
