using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using ReaSeq.Ingestors.Replay;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;
using ReaSeq.Processors.Sequence.Streaming;

namespace ReaSeq.Host;

/// <summary>`reaseq sequence stats`: runs the detector over a replayed data set in-process and prints the paper's Table 5 columns.</summary>
public static class SequenceCommand
{
    public static Command Create()
    {
        var replay = ReplayOptionSet.KindOption(ReplayKind.Auto, allowNone: false);
        var variant = CliParsers.Variant();
        var options = new ReplayOptionSet();
        var partitions = CliParsers.Int("--partitions", "Users are spread over N partitions as in the sequence role (hash of the user id): per-partition online models, one shared T", 4, 1, 1024);
        var stats = new Command("stats", "Run the gap detector over a replayed data set in-process and print the paper's Table 5 columns")
        {
            replay, variant, partitions,
        };
        options.AddTo(stats);
        stats.SetAction((r, ct) => StatsAsync(options.Bind(r, r.GetValue(replay) ?? ReplayKind.Auto), r.GetValue(variant), ct, r.GetValue(partitions)));
        return new Command("sequence", "Sequence processor tools") { stats };
    }

    /// <summary>The paper's Table 5 [FILL] ratios (%), printed beside ours.</summary>
    private static readonly Dictionary<DetectionVariant, double> PaperFillRatios = new()
    {
        [DetectionVariant.Temporal] = 13.74,
        [DetectionVariant.Category] = 30.63,
        [DetectionVariant.TemporalOrCategory] = 31.94,
    };

    /// <summary>
    /// Runs the detector twice over the replay, users spread over <paramref name="partitions"/> partitions with one T per
    /// domain shared by all of them (frozen per epoch, as the role does): once with per-partition online models (the
    /// role's Partition model source), once with one global Swing model pre-trained on the whole replay (Global).
    /// </summary>
    public static Task<int> StatsAsync(ReplaySettings replay, DetectionVariant? variant, CancellationToken ct, int partitions = 4)
    {
        var source = ReplaySources.Create(replay)!;
        var config = Cli.CreateBuilder().Configuration;
        var detectorOptions = config.GetSection(SequenceDetectorOptions.Section).Get<SequenceDetectorOptions>() ?? new SequenceDetectorOptions();
        if (variant is { } v) detectorOptions.Variant = v;
        var modelOptions = config.GetSection(SwingModelOptions.Section).Get<SwingModelOptions>() ?? new SwingModelOptions();
        var processorOptions = config.GetSection(SequenceProcessorOptions.Section).Get<SequenceProcessorOptions>() ?? new SequenceProcessorOptions();

        var categories = new Dictionary<string, string>(StringComparer.Ordinal);
        var clicks = new List<SequenceClick>();
        foreach (var record in source.Read(ct))
        {
            switch (record)
            {
                case ReplayItem item when item.Item.CategoryPath.Count > 0:
                    categories[item.Item.ItemId] = item.Item.CategoryPath[0];
                    break;
                case ReplayClick click:
                    var c = click.Click;
                    var category = c.Context.TryGetValue("category", out var fromClick) ? fromClick : categories.GetValueOrDefault(c.ItemId);
                    clicks.Add(new SequenceClick(c.UserId, c.EventId, c.ItemId, c.TsMs, category, processorOptions.DomainOf(category, c.Context)));
                    if (clicks.Count % 100_000 == 0) Console.Error.WriteLine($"sequence stats: {clicks.Count:N0} clicks read…");
                    break;
            }
        }

        Console.WriteLine($"== sequence statistics: {source.Name}, configured variant {detectorOptions.Variant}, {partitions} partition(s), " +
            $"T = p{detectorOptions.TemporalPercentile * 100:0.#} of gaps between baskets (tolerance {detectorOptions.BasketToleranceMs / 1000.0:0.###} s), " +
            $"one T per domain ('{processorOptions.ThresholdDomain}') and epoch of {processorOptions.ThresholdEpochMs / 3_600_000.0:0.##} h");
        Console.WriteLine($"-- model: per-partition online Swing models (Sequence:Processor:ModelSource=Partition, LearnOnline={detectorOptions.LearnOnline})");
        var (online, onlineT) = Run(clicks, detectorOptions, partitions, processorOptions.ThresholdEpochMs, () => new SwingCooccurrenceModel(modelOptions), ct);
        PrintStatistics(online, "");
        PrintFrozenThresholds(onlineT, "");

        Console.Error.WriteLine($"sequence stats: training the global model on {clicks.Count:N0} clicks…");
        var global = SwingModelTrainer.Train(clicks.Select(c => new TrainingClick(c.UserId, c.ItemId, c.TimestampMs)), modelOptions, ct);
        var frozen = new SequenceDetectorOptions();
        config.GetSection(SequenceDetectorOptions.Section).Bind(frozen);
        frozen.Variant = detectorOptions.Variant;
        frozen.LearnOnline = false;
        Console.WriteLine($"-- model: one global Swing model pre-trained on the whole replay ({global.ItemCount:N0} items; ModelSource=Global, LearnOnline=false)");
        var (pretrained, _) = Run(clicks, frozen, partitions, processorOptions.ThresholdEpochMs, () => global, ct);
        PrintStatistics(pretrained, "");
        return Task.FromResult(0);
    }

    private static (SequenceStatistics? Stats, IReadOnlyList<FrozenThreshold> Thresholds) Run(IReadOnlyList<SequenceClick> clicks, SequenceDetectorOptions options,
        int partitions, long epochMs, Func<ICollaborativeModel> model, CancellationToken ct)
    {
        var shared = new SharedTemporalThresholds(options, new InMemoryGapSketchStore(options), epochMs);
        var detectors = Enumerable.Range(0, partitions).Select(_ => new SequenceDetector(options, model()) { SharedThresholds = shared }).ToArray();
        try
        {
            var owned = () => detectors.Select((d, p) => (p, d));
            var n = 0;
            foreach (var click in clicks)
            {
                if ((++n & 0xFFFF) == 0) ct.ThrowIfCancellationRequested();
                shared.PrepareAsync(shared.Needed(click.Domain, click.TimestampMs), owned, ct).GetAwaiter().GetResult();
                detectors[PartitionOf(click.UserId, partitions)].Process(click);
            }
            return (Merge(detectors.Select(d => d.GetStatistics()).ToList()), shared.Frozen);
        }
        finally
        {
            foreach (var d in detectors) d.Dispose();
        }
    }

    /// <summary>A stable partition of a user id (FNV-1a), so runs are reproducible.</summary>
    private static int PartitionOf(string userId, int partitions)
    {
        var hash = 2166136261u;
        foreach (var ch in userId) hash = (hash ^ ch) * 16777619u;
        return (int)(hash % (uint)partitions);
    }

    private static void PrintFrozenThresholds(IReadOnlyList<FrozenThreshold> thresholds, string indent)
    {
        foreach (var domain in thresholds.GroupBy(t => t.Domain))
        {
            var driven = domain.Where(t => t.DataDriven).ToList();
            var last = domain.Last();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{indent}T per epoch, domain '{domain.Key}': {domain.Count()} epochs, {domain.Count() - driven.Count} at the initial T; data-driven T from {(driven.Count == 0 ? "-" : Human(driven.Min(t => t.ThresholdMs)))} to {(driven.Count == 0 ? "-" : Human(driven.Max(t => t.ThresholdMs)))}; last epoch T = {last.ThresholdMs:N0} ms ({Human(last.ThresholdMs)}) from {last.Gaps:N0} basket gaps"));
        }
    }

    public static DetectionVariant ParseVariant(string text) =>
        CliParsers.ParseVariant(text) ?? throw new UserException($"unknown variant '{text}' (TD, CD, TDCD, TDCD_RANK)");

    /// <summary>Sums statistics of several partitions (ratios recomputed from the sums).</summary>
    public static SequenceStatistics? Merge(IReadOnlyList<SequenceStatistics> all)
    {
        if (all.Count == 0) return null;
        if (all.Count == 1) return all[0];
        var accepted = all.Sum(s => s.EventsAccepted);
        var variants = all[0].Variants.Select(v =>
        {
            var gaps = all.Sum(s => s.For(v.Variant).Gaps);
            return v with { Gaps = gaps, FillRatio = accepted == 0 ? 0 : (double)gaps / accepted };
        }).ToList();
        static IReadOnlyList<HistogramBucket> Buckets(IEnumerable<IReadOnlyList<HistogramBucket>> lists) =>
            lists.SelectMany(l => l).GroupBy(b => (b.LowerInclusive, b.UpperExclusive))
                .Select(g => new HistogramBucket(g.Key.LowerInclusive, g.Key.UpperExclusive, g.Sum(b => b.Count))).OrderBy(b => b.LowerInclusive).ToList();
        return all[0] with
        {
            EventsReceived = all.Sum(s => s.EventsReceived),
            EventsAccepted = accepted,
            EventsOutOfOrder = all.Sum(s => s.EventsOutOfOrder),
            Duplicates = all.Sum(s => s.Duplicates),
            RejectedTooLate = all.Sum(s => s.RejectedTooLate),
            RejectedOutsideWindow = all.Sum(s => s.RejectedOutsideWindow),
            RejectedInvalid = all.Sum(s => s.RejectedInvalid),
            Users = all.Sum(s => s.Users),
            Transitions = all.Sum(s => s.Transitions),
            Variants = variants,
            Reasons = all.SelectMany(s => s.Reasons).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value)),
            DeltaTMs = Buckets(all.Select(s => s.DeltaTMs)),
            Rank = Buckets(all.Select(s => s.Rank)),
            Unranked = all.SelectMany(s => s.Unranked).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value)),
            LabelCandidates = all.Sum(s => s.LabelCandidates),
            LabeledPositions = all.Sum(s => s.LabeledPositions),
            Thresholds = all.SelectMany(s => s.Thresholds).ToList(),
        };
    }

    public static void PrintStatistics(SequenceStatistics? stats, string indent)
    {
        if (stats is null) { Console.WriteLine($"{indent}(no partitions owned)"); return; }
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"{indent}events {stats.EventsAccepted:N0} accepted of {stats.EventsReceived:N0} ({stats.Duplicates:N0} duplicates, {stats.EventsOutOfOrder:N0} out of order, {stats.RejectedTooLate + stats.RejectedOutsideWindow + stats.RejectedInvalid:N0} rejected), {stats.Users:N0} users"));
        Console.WriteLine($"{indent}variant        gaps      [FILL] ratio   paper (Table 5)");
        foreach (var v in stats.Variants)
        {
            var paper = PaperFillRatios.TryGetValue(v.Variant, out var p) ? string.Create(inv, $"{p,8:F2} %") : "       —  ";
            Console.WriteLine(string.Create(inv, $"{indent}{v.Name,-12} {v.Gaps,10:N0}  {v.FillRatio * 100,10:F2} %  {paper}{(v.Variant == stats.ConfiguredVariant ? "  (output)" : "")}"));
        }
        var decided = stats.Transitions - stats.RankUndecided;
        Console.WriteLine(string.Create(inv, $"{indent}RANK: fired on {stats.RankFired:N0} of {decided:N0} decided transitions ({(decided == 0 ? 0 : 100.0 * stats.RankFired / decided):F2} %); no decision (no evidence) on {stats.RankUndecided:N0} ({(stats.Transitions == 0 ? 0 : 100.0 * stats.RankUndecided / stats.Transitions):F2} % of transitions)"));
        Console.WriteLine(string.Create(inv, $"{indent}labeled positions {stats.LabeledPositions:N0} (ratio {stats.LabeledRatio:F4})"));
        foreach (var t in stats.Thresholds.DistinctBy(t => t.ToString())) Console.WriteLine($"{indent}partition-local TD sketch: {t}");
        Console.WriteLine($"{indent}reasons: {string.Join(", ", stats.Reasons.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key}={kv.Value:N0}"))}");
        Console.WriteLine($"{indent}Δt histogram (ms): {string.Join(" ", stats.DeltaTMs.Where(b => b.Count > 0).Select(b => $"[{Human(b.LowerInclusive)},{Human(b.UpperExclusive)}):{b.Count}"))}");
        Console.WriteLine($"{indent}rank histogram: {string.Join(" ", stats.Rank.Where(b => b.Count > 0).Select(b => $"[{b.LowerInclusive},{b.UpperExclusive}):{b.Count}"))}; not among the candidates: {string.Join(", ", stats.Unranked.Select(kv => $"{kv.Key}={kv.Value:N0}"))} (UnknownItem and NoContextEvidence: no RANK decision)");
    }

    private static string Human(long ms) => ms switch
    {
        < 1_000 => $"{ms}ms",
        < 60_000 => $"{ms / 1_000}s",
        < 3_600_000 => $"{ms / 60_000}m",
        < 86_400_000 => $"{ms / 3_600_000}h",
        _ => $"{ms / 86_400_000}d",
    };
}
