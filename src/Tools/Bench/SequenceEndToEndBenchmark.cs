using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;
using ReaSeq.Processors.Sequence.Streaming;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// The sequence role end to end: clicks through the embedded broker into the processor (state checkpointed in
/// PostgreSQL with offsets) and SequenceUpdates out. Throughput on a pre-filled log, then freshness (click produced →
/// its SequenceUpdate received) at a paced 10,000 clicks/s. Also runs the in-process detection benchmark so
/// bench/results/sequence.json holds both. Needs REASEQ__Postgres__ConnectionString.
/// </summary>
public sealed class SequenceEndToEndBenchmark : IBenchmark
{
    private const int Events = 300_000;
    private const int Users = 20_000;
    private const int PacedRate = 10_000;
    private const int PacedSeconds = 5;
    private const long LongRunUserTtlMs = 5_000;
    private const int TargetFreshnessP99Ms = 50;

    public string Name => "sequence";

    public async Task<JsonObject> RunAsync(CancellationToken ct)
    {
        var figures = await new SequenceDetectionBenchmark().RunAsync(ct);
        GcCounters.Settle(); // the detection benchmark's 100,000 users are garbage now; the role under test did not make them
        await using var db = await BenchDatabase.OpenAsync(ct);
        using var broker = new EmbeddedKafkaBroker(3);
        // The embedded broker holds an empty fetch for the whole fetch wait (KafkaOptions.FetchWaitMaxMs): 2 ms, not 10.
        var kafkaOptions = new KafkaOptions { Partitions = 6, MaxBatchSize = 5_000, MaxBatchWaitMs = 5, FetchWaitMaxMs = 2 };
        using var kafka = new KafkaClientSupplier(kafkaOptions, broker);
        var clickSerde = new AvroSerde<ClickEvent>();
        var sent = new ConcurrentDictionary<(string User, long Version), long>();
        var perUser = new int[Users];

        using (var producer = new ContractProducer(kafka, "bench-clicks"))
        {
            for (var i = 0; i < Events; i++) producer.Produce(Topics.Clicks, $"u{i % Users}", Click(i, perUser));
            producer.Flush(ct);
        }

        var processorOptions = new SequenceProcessorOptions { CatalogWaitMs = 0, UserIdleTtlMs = LongRunUserTtlMs };
        using var deadLetters = new DeadLetterPublisher(kafka, new AvroSerde<DeadLetter>(), NullLogger<DeadLetterPublisher>.Instance);
        using var catalog = new ItemCategoryResolver(kafka, processorOptions, kafkaOptions);
        using var processor = new SequenceProcessor(clickSerde, new AvroSerde<SequenceUpdate>(), new ReaSeq.Contracts.Validation.ContractValidator(new()), kafka, deadLetters,
            new PostgresSequenceCheckpointStore(db), catalog, new SequenceDetectorOptions(),
            new SwingModelOptions(), processorOptions, kafkaOptions, NullLogger<SequenceProcessor>.Instance);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var loop = Task.Factory.StartNew(() => new BatchConsumerLoop(kafka, kafkaOptions, NullLogger.Instance).RunAsync(processor, "bench", cts.Token),
            cts.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        while (processor.Consumed == 0) await Task.Delay(1, ct);
        var clock = Stopwatch.StartNew();
        var start = processor.Consumed;
        while (processor.Consumed < Events) await Task.Delay(2, ct);
        var e2eRate = (Events - start) / clock.Elapsed.TotalSeconds;
        GcCounters.Settle();

        // Freshness: a reader of the output topic times each click's first covering update.
        var latencies = new ConcurrentBag<(long Sent, double Ms)>();
        using var stages = new StageTimings($"{kafkaOptions.GroupPrefix}.{processor.Name}", "sequence_update");
        var reading = Task.Factory.StartNew(() =>
        {
            using var consumer = kafka.CreateConsumer("bench-freshness", "bench-freshness");
            consumer.Assign(Enumerable.Range(0, kafkaOptions.Partitions).Select(p => new TopicPartitionOffset(Topics.SequenceGaps, p, Offset.End)));
            var covered = new Dictionary<string, long>();
            while (!cts.IsCancellationRequested)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(50)) is not { IsPartitionEOF: false } r) continue;
                var now = Stopwatch.GetTimestamp();
                stages.UpdateRead(r.Message.Timestamp);
                var (userId, version) = UserAndVersion(r.Message.Value!);
                covered.TryGetValue(userId, out var from);
                for (var v = from + 1; v <= version; v++)
                    if (sent.TryRemove((userId, v), out var t)) latencies.Add((t, Stopwatch.GetElapsedTime(t, now).TotalMilliseconds));
                covered[userId] = Math.Max(from, version);
            }
        }, cts.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // One producer for both paced phases, connected to every broker before the clock starts: a new producer's first
        // sends wait for its metadata, producer id and connections, which the first clicks then carried as ~0.5 s of
        // freshness (a deployment's producers are long-lived).
        using var pacedProducer = kafka.CreateProducer("bench-paced");
        const string WarmUpTopic = "bench-warm-up";
        broker.CreateTopic(WarmUpTopic, kafkaOptions.Partitions);
        for (var p = 0; p < kafkaOptions.Partitions; p++)
            pacedProducer.Produce(new TopicPartition(WarmUpTopic, p), new Message<byte[]?, byte[]?> { Value = [0] });
        pacedProducer.Flush(ct);
        await Task.Delay(2_000, ct); // let the reader join its partitions at the log end
        stages.Start();

        var pacedGc = GcCounters.Now();
        var pacedStart = Stopwatch.GetTimestamp();
        {
            var paced = Stopwatch.StartNew();
            for (var i = 0; i < PacedRate * PacedSeconds; i++)
            {
                var due = TimeSpan.FromSeconds((double)i / PacedRate);
                Pacing.WaitUntil(paced, due);
                var click = Click(Events + i, perUser);
                sent[(click.UserId, perUser[(Events + i) % Users])] = Stopwatch.GetTimestamp();
                pacedProducer.Produce(Topics.Clicks, new Message<byte[]?, byte[]?> { Key = System.Text.Encoding.UTF8.GetBytes(click.UserId), Value = clickSerde.Serialize(click) });
                if (i % 500 == 0) pacedProducer.Poll(TimeSpan.Zero);
            }
            pacedProducer.Flush(ct);
        }
        var deadline = Stopwatch.StartNew();
        while (!sent.IsEmpty && deadline.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20, ct);
        var pacedGcFigures = pacedGc.Since();
        var pacedStages = stages.Stop();
        var pacedTail = Tail(latencies, pacedStart);
        var sorted = latencies.Select(l => l.Ms).Order().ToArray();
        var unmatched = sent.Count;
        sent.Clear();
        latencies.Clear();
        GcCounters.Settle();

        // Issue 8 D12: the same rate for a run 10× longer, with a churning population (a new cohort of users every second,
        // each active for a few seconds, as a site's visitors are): memory must stay flat while the users seen grow.
        // Idle users are evicted after LongRunUserTtlMs once checkpointed. The managed heap is sampled every second.
        var heap = new List<(double Seconds, long HeapBytes, int Users)>();
        var cohortClicks = new Dictionary<string, int>(StringComparer.Ordinal);
        var longGc = GcCounters.Now();
        stages.Start();
        var longStart = Stopwatch.GetTimestamp();
        {
            var paced = Stopwatch.StartNew();
            var nextSample = TimeSpan.Zero;
            for (var i = 0; i < PacedRate * PacedSeconds * 10; i++)
            {
                var due = TimeSpan.FromSeconds((double)i / PacedRate);
                Pacing.WaitUntil(paced, due);
                if (paced.Elapsed >= nextSample)
                {
                    heap.Add((Math.Round(paced.Elapsed.TotalSeconds, 1), GC.GetGCMemoryInfo().HeapSizeBytes, processor.UsersInMemory));
                    nextSample += TimeSpan.FromSeconds(1);
                }
                var click = CohortClick(i, PacedRate);
                var version = cohortClicks[click.UserId] = cohortClicks.GetValueOrDefault(click.UserId) + 1;
                sent[(click.UserId, version)] = Stopwatch.GetTimestamp();
                pacedProducer.Produce(Topics.Clicks, new Message<byte[]?, byte[]?> { Key = System.Text.Encoding.UTF8.GetBytes(click.UserId), Value = clickSerde.Serialize(click) });
                if (i % 500 == 0) pacedProducer.Poll(TimeSpan.Zero);
            }
            pacedProducer.Flush(ct);
        }
        deadline.Restart();
        while (!sent.IsEmpty && deadline.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20, ct);
        var longGcFigures = longGc.Since();
        var longStages = stages.Stop();
        var longTail = Tail(latencies, longStart);
        var longSorted = latencies.Select(l => l.Ms).Order().ToArray();
        // What the heap holds alive, apart from garbage the collector has not needed to reclaim yet: the samples above
        // are sizes after ordinary collections, which grow while the oldest generation's budget lasts.
        GcCounters.Settle();
        var liveHeapMb = Math.Round(GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0, 1);
        var usersAtEnd = processor.UsersInMemory;
        cts.Cancel();
        await loop;
        try { await reading; } catch (OperationCanceledException) { }

        double P(double q) => StageTimings.Percentile(sorted, q) ?? double.NaN;
        double LongP(double q) => StageTimings.Percentile(longSorted, q) ?? double.NaN;
        double MeanHeapMb(IEnumerable<(double, long HeapBytes, int)> samples) => Math.Round(samples.Select(x => x.HeapBytes / 1048576.0).DefaultIfEmpty(double.NaN).Average(), 1);
        var tenth = Math.Max(1, heap.Count / 5);
        figures["long_run_seconds"] = PacedSeconds * 10;
        figures["long_run_users_seen"] = cohortClicks.Count;
        figures["long_run_user_ttl_ms"] = LongRunUserTtlMs;
        figures["long_run_freshness_samples"] = longSorted.Length;
        figures["long_run_freshness_unmatched"] = sent.Count;
        figures["long_run_freshness_p50_ms"] = LongP(0.50);
        figures["long_run_freshness_p99_ms"] = LongP(0.99);
        figures["long_run_freshness_tail"] = longTail;
        figures["long_run_gc"] = longGcFigures;
        figures["long_run_stages"] = longStages;
        figures["long_run_heap_mb_first_fifth"] = MeanHeapMb(heap.Take(tenth));
        figures["long_run_heap_mb_last_fifth"] = MeanHeapMb(heap.TakeLast(tenth));
        figures["long_run_heap_mb_after_full_gc"] = liveHeapMb;
        figures["long_run_users_in_memory_at_full_gc"] = usersAtEnd;
        figures["long_run_users_in_memory_max"] = heap.Select(x => x.Users).DefaultIfEmpty().Max();
        figures["long_run_users_in_memory_last"] = heap.Select(x => x.Users).DefaultIfEmpty().Last();
        figures["long_run_users_evicted"] = processor.UserMoves.Evicted;
        figures["long_run_users_reloaded"] = processor.UserMoves.Reloaded;
        figures["long_run_heap_samples"] = new JsonArray(heap.Select(x => (JsonNode)new JsonArray(x.Seconds, Math.Round(x.HeapBytes / 1048576.0, 1), x.Users)).ToArray());
        figures["load_average_1m_end"] = LoadAverage();
        figures["e2e_events"] = Events;
        figures["e2e_events_per_s"] = Math.Round(e2eRate);
        figures["e2e_updates_published"] = processor.Published;
        figures["freshness_rate_events_per_s"] = PacedRate;
        figures["freshness_samples"] = sorted.Length;
        figures["freshness_unmatched"] = unmatched;
        figures["freshness_p50_ms"] = P(0.50);
        figures["freshness_p99_ms"] = P(0.99);
        figures["freshness_tail"] = pacedTail;
        figures["freshness_gc"] = pacedGcFigures;
        figures["freshness_stages"] = pacedStages;
        figures["target_e2e_events_per_s"] = 100_000;
        figures["target_freshness_p99_ms"] = TargetFreshnessP99Ms;
        figures["meets_e2e_target"] = e2eRate >= 100_000;
        figures["meets_freshness_target"] = sorted.Length > 0 && P(0.99) <= TargetFreshnessP99Ms;
        // A phase without samples has no percentile: recorded as null (JSON has no NaN), and said on the console.
        foreach (var key in figures.Select(kv => kv.Key).ToList())
        {
            if (figures[key] is JsonValue value && value.TryGetValue<double>(out var number) && !double.IsFinite(number))
            {
                Console.Error.WriteLine($"sequence bench: {key} has no value (no samples)");
                figures[key] = null;
            }
        }
        Console.Error.WriteLine(figures.ToJsonString());
        return figures;
    }

    /// <summary>
    /// Where the tail is: the share of clicks over the 50 ms target, the slowest click and when it was sent (seconds
    /// into the phase), and the seconds of the phase with the most clicks over the target — one long stall, or a
    /// spread of slow clicks.
    /// </summary>
    private static JsonObject Tail(IReadOnlyCollection<(long Sent, double Ms)> latencies, long phaseStart)
    {
        if (latencies.Count == 0) return new JsonObject();
        var slowest = latencies.MaxBy(l => l.Ms);
        var over = latencies.Where(l => l.Ms > TargetFreshnessP99Ms).ToList();
        var worstSeconds = over.GroupBy(l => (int)Stopwatch.GetElapsedTime(phaseStart, l.Sent).TotalSeconds)
            .OrderByDescending(g => g.Count()).Take(3)
            .Select(g => (JsonNode)new JsonObject { ["second"] = g.Key, ["clicks_over_50_ms"] = g.Count() }).ToArray();
        return new JsonObject
        {
            ["share_over_50_ms"] = Math.Round(over.Count / (double)latencies.Count, 5),
            ["max_ms"] = Math.Round(slowest.Ms, 1),
            ["max_sent_at_s"] = Math.Round(Stopwatch.GetElapsedTime(phaseStart, slowest.Sent).TotalSeconds, 2),
            ["worst_seconds"] = new JsonArray(worstSeconds),
        };
    }

    private static readonly string[] Categories = ["toys", "garden", "kitchen", "lights", "bags", "cards"];

    /// <summary>Each second of the long run brings a new cohort of users, each clicking for about three seconds.</summary>
    private static ClickEvent CohortClick(int i, int rate)
    {
        const int cohortSize = 3_000;
        var second = i / rate;
        // Clicks of one second go to this second's cohort and the two before it.
        var cohort = Math.Max(0, second - i % 3);
        var user = $"c{cohort}-{i * 7 % cohortSize}";
        var item = (int)(i * 7919L % 5_000);
        return new ClickEvent
        {
            EventId = $"l{i}",
            UserId = user,
            ItemId = $"i{item}",
            // After the first phases' event times, and still in the past: the shared validator rejects far-future clicks.
            TsMs = 1_700_100_000_000 + i * 50L,
            Action = ClickAction.CLICK,
            Context = new() { ["category"] = Categories[item % Categories.Length] },
        };
    }

    /// <summary>
    /// The first two fields of a SequenceUpdate (user_id, sequence_version), read with Avro's decoder without decoding the
    /// window: the reader runs in the measured process, and decoding every update in full added its garbage to the processor's.
    /// </summary>
    private static (string UserId, long Version) UserAndVersion(byte[] value)
    {
        var header = AvroSerde<SequenceUpdate>.SingleObjectHeaderLength;
        var decoder = new Avro.IO.BinaryDecoder(new MemoryStream(value, header, value.Length - header, writable: false));
        return (decoder.ReadString(), decoder.ReadLong());
    }

    private static double LoadAverage()
    {
        try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture); }
        catch (IOException) { return double.NaN; }
    }

    private static ClickEvent Click(int i, int[] perUser)
    {
        var user = i % Users;
        perUser[user]++;
        var item = (int)(i * 7919L % 5_000);
        return new ClickEvent
        {
            EventId = $"s{i}",
            UserId = $"u{user}",
            ItemId = $"i{item}",
            TsMs = 1_700_000_000_000 + i * 50L,
            Action = ClickAction.CLICK,
            Context = new() { ["category"] = Categories[item % Categories.Length] },
        };
    }
}
