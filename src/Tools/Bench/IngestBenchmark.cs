using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Ingest;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// Click ingest with exactly-once PostgreSQL state against the limit: the raw Confluent.Kafka consume rate from the
/// same embedded broker, in the same run. Also produce→committed latency at a paced 10,000 clicks/s.
/// Needs REASEQ__Postgres__ConnectionString (make bench sets it to a fresh database).
/// </summary>
public sealed class IngestBenchmark : IBenchmark
{
    private const int Events = 400_000;
    private const int PacedRate = 10_000;
    private const int PacedSeconds = 5;

    public string Name => "ingest";

    /// <summary>Measures commit time of every click (latency) around the real PostgreSQL store.</summary>
    private sealed class TimedStore(IClickSequenceStore inner, ConcurrentDictionary<string, long> sentAt, ConcurrentBag<double> latenciesMs) : IClickSequenceStore
    {
        public long Committed;
        public Task<IReadOnlyList<PartitionOffset>> LoadOffsetsAsync(string g, IReadOnlyCollection<(string Topic, int Partition)> p, CancellationToken ct) => inner.LoadOffsetsAsync(g, p, ct);
        public Task<IReadOnlyList<PartitionOffset>> ClaimOffsetsAsync(string g, IReadOnlyCollection<(string Topic, int Partition)> p, CancellationToken ct) => inner.ClaimOffsetsAsync(g, p, ct);
        public Task<IReadOnlyList<StoredClick>> LoadPartitionsAsync(IReadOnlyCollection<int> p, CancellationToken ct) => inner.LoadPartitionsAsync(p, ct);
        public Task<IReadOnlyList<StoredClick>> GetSequenceAsync(string u, CancellationToken ct) => inner.GetSequenceAsync(u, ct);

        public async Task CommitAsync(string g, IReadOnlyList<StoredClick> appended, IReadOnlyList<SequenceTrim> trims, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
        {
            await inner.CommitAsync(g, appended, trims, offsets, ct);
            var now = Stopwatch.GetTimestamp();
            foreach (var click in appended)
                if (sentAt.TryRemove(click.EventId, out var sent)) latenciesMs.Add(Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds);
            Interlocked.Add(ref Committed, appended.Count);
        }
    }

    public async Task<JsonObject> RunAsync(CancellationToken ct)
    {
        await using var db = await BenchDatabase.OpenAsync(ct);

        using var broker = new EmbeddedKafkaBroker(3);
        var options = new KafkaOptions { Partitions = 6, MaxBatchSize = 5_000, MaxBatchWaitMs = 20 };
        using var kafka = new KafkaClientSupplier(options, broker);
        var serde = new AvroSerde<ClickEvent>();

        // The log: Events clicks of 20,000 users, produced up front.
        var started = Stopwatch.StartNew();
        using (var producer = new ContractProducer(kafka, "bench-producer"))
        {
            for (var i = 0; i < Events; i++) producer.Produce(Topics.Clicks, $"u{i % 20_000}", Click(i, 0));
            producer.Flush(ct);
        }
        Console.Error.WriteLine($"bench ingest: produced {Events:N0} clicks in {started.Elapsed.TotalSeconds:F1} s");

        // (a) the limit: a plain consumer that only reads the same records.
        double rawRate;
        using (var consumer = kafka.CreateConsumer("bench-raw", "bench-raw"))
        {
            consumer.Subscribe(Topics.Clicks);
            var first = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new InvalidOperationException("no records");
            var clock = Stopwatch.StartNew();
            long read = 1, bytes = first.Message.Value?.Length ?? 0;
            while (read < Events && consumer.Consume(TimeSpan.FromSeconds(5)) is { } r)
            {
                if (r.IsPartitionEOF) continue;
                read++;
                bytes += r.Message.Value?.Length ?? 0;
            }
            rawRate = read / clock.Elapsed.TotalSeconds;
            consumer.Close();
        }

        // (b) the ingest path: decode, validate, dedupe, COPY into PostgreSQL with offsets in one transaction per batch.
        var sentAt = new ConcurrentDictionary<string, long>();
        var latencies = new ConcurrentBag<double>();
        var store = new TimedStore(new PostgresClickSequenceStore(db), sentAt, latencies);
        using var deadLetters = new DeadLetterPublisher(kafka, new AvroSerde<DeadLetter>(), NullLogger<DeadLetterPublisher>.Instance);
        var ingestOptions = new IngestOptions();
        var ingestor = new ClickIngestor(serde, new ContractValidator(new ContractLimits()), deadLetters, store, new IngestStats(), options, ingestOptions);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var loop = Task.Factory.StartNew(() => new BatchConsumerLoop(kafka, options, NullLogger.Instance).RunAsync(ingestor, "bench", cts.Token),
            cts.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        while (Interlocked.Read(ref store.Committed) == 0) await Task.Delay(1, ct);
        var ingestClock = Stopwatch.StartNew();
        var startCount = Interlocked.Read(ref store.Committed);
        while (Interlocked.Read(ref store.Committed) < Events) await Task.Delay(5, ct);
        var ingestRate = (Events - startCount) / ingestClock.Elapsed.TotalSeconds;

        // Latency: a paced stream on top, each click stamped when produced, timed when its transaction commits.
        latencies.Clear();
        using (var producer = kafka.CreateProducer("bench-paced"))
        {
            var clock = Stopwatch.StartNew();
            var total = PacedRate * PacedSeconds;
            for (var i = 0; i < total; i++)
            {
                var due = TimeSpan.FromSeconds((double)i / PacedRate);
                Pacing.WaitUntil(clock, due);
                var click = Click(Events + i, 1);
                sentAt[click.EventId] = Stopwatch.GetTimestamp();
                producer.Produce(Topics.Clicks, new Message<byte[]?, byte[]?> { Key = System.Text.Encoding.UTF8.GetBytes(click.UserId), Value = serde.Serialize(click) });
                if (i % 1_000 == 0) producer.Poll(TimeSpan.Zero);
            }
            producer.Flush(ct);
        }
        while (Interlocked.Read(ref store.Committed) < Events + PacedRate * PacedSeconds) await Task.Delay(5, ct);
        cts.Cancel();
        await loop;

        var sorted = latencies.Order().ToArray();
        double Percentile(double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
        var figures = new JsonObject
        {
            ["events"] = Events,
            ["raw_consume_events_per_s"] = Math.Round(rawRate),
            ["ingest_events_per_s"] = Math.Round(ingestRate),
            ["ratio"] = Math.Round(ingestRate / rawRate, 3),
            ["p50_ms"] = Math.Round(Percentile(0.50), 2),
            ["p99_ms"] = Math.Round(Percentile(0.99), 2),
            ["latency_rate_events_per_s"] = PacedRate,
            ["latency_samples"] = sorted.Length,
            ["batch_max"] = options.MaxBatchSize,
            ["batch_wait_ms"] = options.MaxBatchWaitMs,
            ["target_ingest_events_per_s"] = 100_000,
            ["target_ratio"] = 0.5,
            ["meets_targets"] = ingestRate >= 100_000 && ingestRate / rawRate >= 0.5,
        };
        return figures;
    }

    private static ClickEvent Click(int i, int phase) => new()
    {
        EventId = $"b{phase}-{i}",
        UserId = $"u{i % 20_000}",
        ItemId = $"i{(i * 31) % 50_000}",
        TsMs = 1_700_000_000_000 + i * 10L,
        Action = ClickAction.CLICK,
    };
}
