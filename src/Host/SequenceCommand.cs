using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using ReaSeq.Ingestors.Replay;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Host;

/// <summary>`reaseq sequence stats`: runs the detector over a replayed data set in-process and prints the paper's Table 5 columns.</summary>
public static class SequenceCommand
{
    public static Command Create()
    {
        var replay = ReplayOptionSet.KindOption(ReplayKind.Auto, allowNone: false);
        var variant = CliParsers.Variant();
        var options = new ReplayOptionSet();
        var stats = new Command("stats", "Run the gap detector over a replayed data set in-process and print the paper's Table 5 columns")
        {
            replay, variant,
        };
        options.AddTo(stats);
        stats.SetAction((r, ct) => StatsAsync(options.Bind(r, r.GetValue(replay) ?? ReplayKind.Auto), r.GetValue(variant), ct));
        return new Command("sequence", "Sequence processor tools") { stats };
    }

    public static Task<int> StatsAsync(ReplaySettings replay, DetectionVariant? variant, CancellationToken ct)
    {
        var source = ReplaySources.Create(replay)!;
        var config = Cli.CreateBuilder().Configuration;
        var detectorOptions = config.GetSection(SequenceDetectorOptions.Section).Get<SequenceDetectorOptions>() ?? new SequenceDetectorOptions();
        if (variant is { } v) detectorOptions.Variant = v;
        var modelOptions = config.GetSection(SwingModelOptions.Section).Get<SwingModelOptions>() ?? new SwingModelOptions();
        using var detector = new SequenceDetector(detectorOptions, new SwingCooccurrenceModel(modelOptions));

        var categories = new Dictionary<string, string>(StringComparer.Ordinal);
        long clicks = 0;
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
                    detector.Process(new SequenceClick(c.UserId, c.EventId, c.ItemId, c.TsMs, category));
                    if (++clicks % 100_000 == 0) Console.Error.WriteLine($"sequence stats: {clicks:N0} clicks…");
                    break;
            }
        }
        Console.WriteLine($"== sequence statistics: {source.Name}, configured variant {detectorOptions.Variant}");
        PrintStatistics(detector.GetStatistics(), "");
        return Task.FromResult(0);
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
        Console.WriteLine($"{indent}variant        gaps      [FILL] ratio");
        foreach (var v in stats.Variants)
            Console.WriteLine(string.Create(inv, $"{indent}{v.Name,-12} {v.Gaps,10:N0}  {v.FillRatio,10:F4}{(v.Variant == stats.ConfiguredVariant ? "  (output)" : "")}"));
        Console.WriteLine(string.Create(inv, $"{indent}labeled positions {stats.LabeledPositions:N0} (ratio {stats.LabeledRatio:F4})"));
        foreach (var t in stats.Thresholds.DistinctBy(t => t.ToString())) Console.WriteLine($"{indent}TD threshold: {t}");
        Console.WriteLine($"{indent}reasons: {string.Join(", ", stats.Reasons.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key}={kv.Value:N0}"))}");
        Console.WriteLine($"{indent}Δt histogram (ms): {string.Join(" ", stats.DeltaTMs.Where(b => b.Count > 0).Select(b => $"[{Human(b.LowerInclusive)},{Human(b.UpperExclusive)}):{b.Count}"))}");
        Console.WriteLine($"{indent}rank histogram: {string.Join(" ", stats.Rank.Where(b => b.Count > 0).Select(b => $"[{b.LowerInclusive},{b.UpperExclusive}):{b.Count}"))}; unranked: {string.Join(", ", stats.Unranked.Select(kv => $"{kv.Key}={kv.Value:N0}"))}");
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
