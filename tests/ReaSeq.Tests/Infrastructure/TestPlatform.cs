using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Ingest;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Tests.Infrastructure;

/// <summary>
/// The real parts one ingest test needs: an embedded Kafka cluster (librdkafka mock, real wire protocol), a fresh
/// PostgreSQL database, and factories for ingestors and consumer loops wired like the host wires them.
/// </summary>
public sealed class TestPlatform : IAsyncDisposable
{
    private readonly List<(CancellationTokenSource Cts, Task Loop)> _loops = [];
    private readonly List<IDisposable> _handlers = [];

    private TestPlatform(string connectionString, int partitions, Action<KafkaOptions>? configure)
    {
        ConnectionString = connectionString;
        Broker = new EmbeddedKafkaBroker(3);
        KafkaOptions = new KafkaOptions { Partitions = partitions, MaxBatchSize = 2_000, MaxBatchWaitMs = 20 };
        configure?.Invoke(KafkaOptions);
        Kafka = new KafkaClientSupplier(KafkaOptions, Broker);
        Db = NpgsqlDataSource.Create(connectionString);
        DeadLetters = new DeadLetterPublisher(Kafka, new AvroSerde<DeadLetter>(), NullLogger<DeadLetterPublisher>.Instance, KafkaOptions);
        Producer = new ContractProducer(Kafka, "test-producer");
    }

    public static async Task<TestPlatform> StartAsync(PostgresFixture postgres, int partitions = 6, Action<KafkaOptions>? configure = null) =>
        new(await postgres.CreateDatabaseAsync(), partitions, configure);

    /// <summary>
    /// Client settings for outage tests: a produced record fails its delivery after <paramref name="messageTimeoutMs"/>,
    /// and clients reconnect within a fraction of a second once the brokers are back.
    /// </summary>
    public static Action<KafkaOptions> ShortTimeouts(int messageTimeoutMs = 1_500) => o =>
    {
        o.Client["message.timeout.ms"] = messageTimeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        o.Client["reconnect.backoff.ms"] = "50";
        o.Client["reconnect.backoff.max.ms"] = "250";
    };

    public string ConnectionString { get; }
    public EmbeddedKafkaBroker Broker { get; }
    public KafkaOptions KafkaOptions { get; }
    public KafkaClientSupplier Kafka { get; }
    public NpgsqlDataSource Db { get; }
    public DeadLetterPublisher DeadLetters { get; }
    public ContractProducer Producer { get; }
    public IngestStats Stats { get; } = new();
    public IngestOptions IngestOptions { get; } = new();

    public ContractLimits Limits { get; } = new();

    /// <summary>What the consumer loops started by <see cref="Run"/> report about their progress.</summary>
    public RoleHealth Health { get; } = new();

    public ContractValidator Validator => new(Limits);

    public ClickIngestor NewClickIngestor() =>
        new(new AvroSerde<ClickEvent>(), Validator, DeadLetters, new PostgresClickSequenceStore(Db), Stats, KafkaOptions, IngestOptions);

    public ItemIngestor NewItemIngestor() =>
        new(new AvroSerde<ItemUpdate>(), Validator, DeadLetters, new PostgresCatalogStore(Db), Stats, KafkaOptions);

    public ImpressionIngestor NewImpressionIngestor() =>
        new(new AvroSerde<LabeledImpression>(), Validator, DeadLetters, new PostgresImpressionStore(Db), Stats, KafkaOptions);

    public ReaSeq.Processors.Sequence.Streaming.SequenceProcessor NewSequenceProcessor(
        ReaSeq.Processors.Sequence.SequenceDetectorOptions? detector = null, ReaSeq.Processors.Sequence.Streaming.SequenceProcessorOptions? options = null) =>
        new(new AvroSerde<ClickEvent>(), new AvroSerde<SequenceUpdate>(), Validator, Kafka, DeadLetters,
            new ReaSeq.Processors.Sequence.Streaming.PostgresSequenceCheckpointStore(Db), Track(new ReaSeq.Processors.Sequence.Streaming.ItemCategoryResolver(Kafka, options ?? new(), KafkaOptions)),
            detector ?? new ReaSeq.Processors.Sequence.SequenceDetectorOptions(), new ReaSeq.Processors.Sequence.Model.SwingModelOptions(),
            options ?? new ReaSeq.Processors.Sequence.Streaming.SequenceProcessorOptions(), KafkaOptions,
            NullLogger<ReaSeq.Processors.Sequence.Streaming.SequenceProcessor>.Instance);

    private T Track<T>(T disposable) where T : IDisposable
    {
        _handlers.Add(disposable);
        return disposable;
    }

    /// <summary>Runs a consumer loop for the handler until the returned source is cancelled (graceful stop).</summary>
    public CancellationTokenSource Run(IBatchHandler handler, string instance)
    {
        if (handler is IDisposable disposable) _handlers.Add(disposable);
        var cts = new CancellationTokenSource();
        var loop = Task.Factory.StartNew(
            () => new BatchConsumerLoop(Kafka, KafkaOptions, NullLogger.Instance, Health).RunAsync(handler, instance, cts.Token),
            cts.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        _loops.Add((cts, loop));
        return cts;
    }

    /// <summary>Stops a loop started by <see cref="Run"/> and waits until its consumer has left the group.</summary>
    public async Task StopAsync(CancellationTokenSource run)
    {
        await run.CancelAsync();
        await WaitStoppedAsync(_loops.Single(l => ReferenceEquals(l.Cts, run)).Loop);
    }

    private static async Task WaitStoppedAsync(Task loop)
    {
        try { await loop.WaitAsync(TimeSpan.FromSeconds(30)); } catch (OperationCanceledException) { }
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var cmd = Db.CreateCommand(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    /// <summary>Polls until the condition holds; fails with the description after the timeout.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out after {timeout} waiting for: {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>Reads every record a topic holds right now (up to each partition's high watermark), without a group.</summary>
    public List<ConsumeResult<byte[]?, byte[]?>> ReadToEnd(string topic, int partitions = 6)
    {
        using var consumer = Kafka.CreateConsumer("reader-" + Guid.NewGuid().ToString("N"), "reader");
        var ends = Enumerable.Range(0, partitions)
            .Select(p => (Partition: p, High: consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value))
            .Where(x => x.High > 0).ToDictionary(x => x.Partition, x => x.High);
        consumer.Assign(ends.Keys.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var result = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (ends.Count > 0 && DateTime.UtcNow < deadline)
        {
            ConsumeResult<byte[]?, byte[]?>? r;
            try
            {
                r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                continue; // a fetch error injected into the embedded broker (chaos tests): the client retries the fetch
            }
            if (r is not { IsPartitionEOF: false }) continue;
            result.Add(r);
            if (r.Offset.Value + 1 >= ends.GetValueOrDefault(r.Partition.Value, long.MaxValue)) ends.Remove(r.Partition.Value);
        }
        return result;
    }

    /// <summary>Reads every record of a topic from the beginning with a plain consumer.</summary>
    public List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string topic, int expected, TimeSpan timeout)
    {
        using var consumer = Kafka.CreateConsumer("reader-" + Guid.NewGuid().ToString("N"), "reader");
        consumer.Subscribe(topic);
        var result = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow + timeout;
        while (result.Count < expected && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } r) result.Add(r);
        // Linger briefly to catch any records beyond the expected count (duplicates would show up here).
        var extraDeadline = DateTime.UtcNow + TimeSpan.FromMilliseconds(500);
        while (DateTime.UtcNow < extraDeadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } r) result.Add(r);
        consumer.Close();
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (cts, _) in _loops) cts.Cancel();
        foreach (var (_, loop) in _loops) await WaitStoppedAsync(loop);
        foreach (var handler in _handlers) handler.Dispose(); // their producers would keep calling a stopped broker
        Producer.Dispose();
        DeadLetters.Dispose();
        await Db.DisposeAsync();
        Kafka.Dispose();
        Broker.Dispose();
    }
}
