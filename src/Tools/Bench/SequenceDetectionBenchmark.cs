using System.Diagnostics;
using System.Text.Json.Nodes;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// In-process throughput of the sequence detector (state in memory, model look-ups and updates included)
/// over a synthetic click stream generated up front, against a baseline that only appends the same events
/// to bounded per-user windows. Single-threaded, like one consumer of one partition.
/// </summary>
public sealed class SequenceDetectionBenchmark(int users, int items, int events, int seed) : IBenchmark
{
    /// <summary>The recorded configuration: 100k users, 50k items, 5M events.</summary>
    public SequenceDetectionBenchmark() : this(100_000, 50_000, 5_000_000, 42)
    {
    }

    private const int Categories = 20;
    private const double TargetEventsPerSecond = 1_000_000;

    public string Name => "sequence-inprocess";

    public Task<JsonObject> RunAsync(CancellationToken cancellationToken) => Task.Run(() => Run(cancellationToken), cancellationToken);

    private JsonObject Run(CancellationToken cancellationToken)
    {
        var generation = Stopwatch.StartNew();
        var clicks = SyntheticStream(users, items, events, seed);
        generation.Stop();
        var detectorOptions = new SequenceDetectorOptions();
        var modelOptions = new SwingModelOptions();

        // Warm the JIT on a prefix with throw-away state, so the timed run measures steady-state code.
        using (var warm = new SequenceDetector(detectorOptions, new SwingCooccurrenceModel(modelOptions)))
            for (var i = 0; i < Math.Min(clicks.Length, 300_000); i++) warm.Process(clicks[i]);
        AppendBaseline(clicks.AsSpan(0, Math.Min(clicks.Length, 300_000)), detectorOptions.WindowSize);

        GC.Collect();
        var gcBefore = GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var pauseBefore = GC.GetTotalPauseDuration();
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var model = new SwingCooccurrenceModel(modelOptions);
        using var detector = new SequenceDetector(detectorOptions, model);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < clicks.Length; i++)
        {
            if ((i & 0xFFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
            detector.Process(clicks[i]);
        }
        watch.Stop();
        // Process CPU time (GC threads included): on a shared machine, wall time also counts time spent descheduled.
        var detectionCpu = Environment.CpuUsage.TotalTime - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var gcPause = GC.GetTotalPauseDuration() - pauseBefore;
        var collections = GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2) - gcBefore;
        var stats = detector.GetStatistics();

        // The same stream against the now-trained model, frozen: look-ups and decisions without model updates.
        var frozenOptions = new SequenceDetectorOptions { LearnOnline = false };
        double frozenSeconds;
        using (var frozen = new SequenceDetector(frozenOptions, model))
        {
            GC.Collect();
            var frozenWatch = Stopwatch.StartNew();
            for (var i = 0; i < clicks.Length; i++)
            {
                if ((i & 0xFFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
                frozen.Process(clicks[i]);
            }
            frozenSeconds = frozenWatch.Elapsed.TotalSeconds;
        }

        GC.Collect();
        var baselineCpuBefore = Environment.CpuUsage.TotalTime;
        var baselineSeconds = AppendBaseline(clicks, detectorOptions.WindowSize);
        var baselineCpu = Environment.CpuUsage.TotalTime - baselineCpuBefore;

        var detectionRate = clicks.Length / watch.Elapsed.TotalSeconds;
        var baselineRate = clicks.Length / baselineSeconds;
        var fill = new JsonObject();
        foreach (var variant in stats.Variants) fill[variant.Name] = Math.Round(variant.FillRatio, 5);
        return new JsonObject
        {
            ["inprocess_events_per_s"] = Math.Round(detectionRate),
            ["baseline_append_events_per_s"] = Math.Round(baselineRate),
            ["ratio"] = Math.Round(detectionRate / baselineRate, 4),
            ["inprocess_events_per_cpu_s"] = Math.Round(clicks.Length / detectionCpu.TotalSeconds),
            ["baseline_append_events_per_cpu_s"] = Math.Round(clicks.Length / baselineCpu.TotalSeconds),
            ["load_average_1m"] = LoadAverage(),
            ["frozen_model_events_per_s"] = Math.Round(clicks.Length / frozenSeconds),
            ["target_events_per_s"] = TargetEventsPerSecond,
            ["meets_target"] = detectionRate >= TargetEventsPerSecond,
            ["events"] = clicks.Length,
            ["users"] = users,
            ["items"] = items,
            ["categories"] = Categories,
            ["detection_seconds"] = Math.Round(watch.Elapsed.TotalSeconds, 3),
            ["baseline_seconds"] = Math.Round(baselineSeconds, 3),
            ["generation_seconds"] = Math.Round(generation.Elapsed.TotalSeconds, 3),
            ["allocated_bytes_per_event"] = Math.Round((double)allocated / clicks.Length, 1),
            ["gc_collections"] = collections,
            ["gc_pause_seconds"] = Math.Round(gcPause.TotalSeconds, 3),
            ["server_gc"] = System.Runtime.GCSettings.IsServerGC,
            ["accepted"] = stats.EventsAccepted,
            ["out_of_order"] = stats.EventsOutOfOrder,
            ["duplicates"] = stats.Duplicates,
            ["rejected"] = stats.RejectedTooLate + stats.RejectedOutsideWindow + stats.RejectedInvalid,
            ["fill_ratio"] = fill,
            ["labeled_ratio"] = Math.Round(stats.LabeledRatio, 5),
            ["td_threshold_ms"] = detector.TemporalThreshold().ThresholdMs,
            ["model_items"] = model.ItemCount,
            ["window"] = detectorOptions.WindowSize,
            ["context"] = detectorOptions.ContextLength,
            ["kappa"] = detectorOptions.RankThreshold,
            ["top_neighbours"] = modelOptions.TopNeighbours,
            ["max_neighbours"] = modelOptions.MaxNeighbours,
            ["cooccurrence_window"] = modelOptions.CoOccurrenceWindow,
            ["baseline"] = "append each event to a bounded per-user window (dictionary look-up + ring write), no detection",
        };
    }

    /// <summary>The machine's 1-minute load average (Linux), to judge how contended the wall-clock figures are.</summary>
    private static double? LoadAverage()
    {
        if (!File.Exists("/proc/loadavg")) return null;
        var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        return double.TryParse(first, System.Globalization.CultureInfo.InvariantCulture, out var load) ? load : null;
    }

    /// <summary>The same per-user bookkeeping without any detection; returns elapsed seconds.</summary>
    private static double AppendBaseline(ReadOnlySpan<SequenceClick> clicks, int window)
    {
        var perUser = new Dictionary<string, (SequenceClick[] Ring, int[] Next)>(StringComparer.Ordinal);
        var watch = Stopwatch.StartNew();
        foreach (ref readonly var click in clicks)
        {
            if (!perUser.TryGetValue(click.UserId, out var state))
            {
                state = (new SequenceClick[window], new int[1]);
                perUser.Add(click.UserId, state);
            }
            state.Ring[state.Next[0]] = click;
            state.Next[0] = state.Next[0] + 1 == window ? 0 : state.Next[0] + 1;
        }
        watch.Stop();
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Users with two favourite categories browse runs of related items (neighbouring ids within a category),
    /// switch category now and then, pause for hours sometimes; ~1% of clicks arrive late (within five
    /// minutes) and ~0.2% are re-deliveries.
    /// </summary>
    public static SequenceClick[] SyntheticStream(int users, int items, int events, int seed)
    {
        var random = new Random(seed);
        var userIds = Enumerable.Range(0, users).Select(u => $"user-{u}").ToArray();
        var itemIds = Enumerable.Range(0, items).Select(i => $"item-{i}").ToArray();
        var categories = Enumerable.Range(0, Categories).Select(c => $"category-{c}").ToArray();
        var itemsPerCategory = Math.Max(1, items / Categories);
        var clock = new long[users];
        var lastItem = new int[users];
        var favourites = new int[users * 2];
        for (var u = 0; u < users; u++)
        {
            clock[u] = 1_700_000_000_000L + random.Next(0, 3_600_000);
            favourites[2 * u] = random.Next(Categories);
            favourites[2 * u + 1] = random.Next(Categories);
            lastItem[u] = favourites[2 * u] * itemsPerCategory + random.Next(itemsPerCategory);
        }

        var clicks = new SequenceClick[events];
        for (var n = 0; n < events; n++)
        {
            var u = random.Next(users);
            if (n > 0 && random.NextDouble() < 0.002)
            {
                clicks[n] = clicks[random.Next(Math.Max(0, n - 1000), n)];
                continue;
            }
            clock[u] += random.NextDouble() < 0.05 ? random.Next(3_600_000, 86_400_000) : (long)(-Math.Log(1 - random.NextDouble()) * 60_000);
            int item;
            var roll = random.NextDouble();
            if (roll < 0.75)
            {
                var category = Math.Min(Categories - 1, lastItem[u] / itemsPerCategory);
                var within = (lastItem[u] % itemsPerCategory + random.Next(-20, 21) + itemsPerCategory) % itemsPerCategory;
                item = category * itemsPerCategory + within;
            }
            else if (roll < 0.95)
            {
                item = favourites[2 * u + random.Next(2)] * itemsPerCategory + random.Next(itemsPerCategory);
            }
            else
            {
                item = random.Next(items);
            }

            item = Math.Min(item, items - 1);
            lastItem[u] = item;
            var timestamp = random.NextDouble() < 0.01 ? clock[u] - random.Next(0, 300_000) : clock[u];
            clicks[n] = new SequenceClick(userIds[u], $"evt-{n}", itemIds[item], timestamp, categories[Math.Min(Categories - 1, item / itemsPerCategory)]);
        }
        return clicks;
    }
}
