using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Ingest;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Ingestors.Replay;
using ReaSeq.Ingestors.Replay.Csv;
using ReaSeq.Ingestors.Replay.OnlineRetail;
using ReaSeq.Ingestors.Replay.Synthetic;
using ReaSeq.Processors.Knowledge.Streaming;
using ReaSeq.Processors.Sequence.Streaming;

namespace ReaSeq.Host;

/// <summary>Chooses a replay source from the command line and drives a replay with live progress.</summary>
public static class ReplaySetup
{
    private static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(60);

    public const string ReplayOptionsHelp = """
          online-retail  [--path FILE] [--negatives 4] [--seed N]      (default: ../shared/data/online-retail/online_retail.csv.gz, or REASEQ_ONLINE_RETAIL_DIR)
          synthetic      [--users 1000] [--items 2000] [--days 30] [--events-per-user 50] [--off-platform 0.2] [--seed 7] [--ground-truth FILE]
          csv            --path FILE --map user=COL,item=COL,ts=COL[,title=COL,category=COL,price=COL,event=COL,action=COL,...] [--negatives 0] [--sort]
          all: [--speed max|1000x] (time-scaled by event time)
        """;

    /// <summary>The source named by --replay (for `run`) or by the first positional argument (for `replay`); null for none.</summary>
    public static IReplaySource? Resolve(CliArgs args, string? kind = null)
    {
        kind ??= args.Get("replay") ?? "none";
        var seed = args.Get("seed") is { } s ? ulong.Parse(s, CultureInfo.InvariantCulture) : (ulong?)null;
        switch (kind)
        {
            case "none":
                return null;
            case "auto":
                return OnlineRetailData.FindDirectory() is not null ? Resolve(args, "online-retail") : Resolve(args, "synthetic");
            case "online-retail":
            {
                var path = args.Get("path") ?? (OnlineRetailData.FindDirectory() is { } dir
                    ? Path.Combine(dir, args.Has("sample") ? OnlineRetailData.SampleFileName : OnlineRetailData.FullFileName)
                    : throw new ArgumentException($"Online Retail not found: give --path FILE or set {OnlineRetailData.EnvironmentVariable}"));
                var options = new OnlineRetailOptions { NegativesPerPurchase = args.GetInt("negatives", 4) };
                if (seed is { } sd) options.Seed = sd;
                return new OnlineRetailSource(path, options);
            }
            case "synthetic":
            {
                var options = new SyntheticOptions
                {
                    Users = args.GetInt("users", 1_000),
                    Items = args.GetInt("items", 2_000),
                    Days = args.GetInt("days", 30),
                    EventsPerUser = args.GetInt("events-per-user", 50),
                };
                if (args.Get("off-platform") is { } share) options.OffPlatformShare = double.Parse(share, CultureInfo.InvariantCulture);
                if (seed is { } sd) options.Seed = sd;
                var groundTruth = args.Get("ground-truth") ?? Path.Combine(".state", "synthetic-ground-truth.jsonl");
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(groundTruth))!);
                return new SyntheticSource(SyntheticWorld.Create(options), groundTruth);
            }
            case "csv":
            {
                var path = args.Get("path") ?? throw new ArgumentException("replay csv needs --path FILE");
                var map = args.Get("map") ?? throw new ArgumentException("replay csv needs --map user=COL,item=COL,ts=COL,...");
                var options = new CsvReplayOptions { NegativesPerPositive = args.GetInt("negatives", 0), SortByTime = args.Has("sort") };
                if (seed is { } sd) options.Seed = sd;
                return new CsvInteractionSource(path, map, options);
            }
            default:
                throw new ArgumentException($"Unknown replay source '{kind}'.\n{ReplayOptionsHelp}");
        }
    }

    /// <summary>"max" or absent: as fast as possible (0); "1000x" or "1000": that many times faster than event time.</summary>
    public static double ParseSpeed(string? speed) => speed switch
    {
        null or "max" or "0" => 0,
        _ when double.TryParse(speed.TrimEnd('x', 'X'), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 => s,
        _ => throw new ArgumentException($"--speed must be 'max' or a factor like 1000x, got '{speed}'"),
    };

    /// <summary>Replays through the running roles, prints progress every second, and a summary once everything is ingested.</summary>
    public static async Task<int> RunWithProgressAsync(IServiceProvider services, IReplaySource source, CliArgs args, IngestStats stats, CancellationToken ct)
    {
        var kafka = services.GetRequiredService<IKafkaClientSupplier>();
        using var producer = new ContractProducer(kafka, "reaseq-replay", services.GetService<ISchemaRegistry>());
        var publisher = new ReplayPublisher(producer);
        var dlq = services.GetRequiredService<DeadLetterPublisher>();
        var clock = Stopwatch.StartNew();
        Console.Error.WriteLine($"replay {source.Name}: publishing{(ParseSpeed(args.Get("speed")) > 0 ? $" at {args.Get("speed")}" : " as fast as possible")}…");
        var sequence = services.GetService<SequenceProcessor>();
        var knowledge = services.GetService<KnowledgeProcessor>();
        // Published but not yet processed by every running role: the replay's lag, and its backpressure signal.
        long Lag()
        {
            var lag = publisher.PublishedByTopic.Sum(p => Math.Max(0, p.Value - stats.For(p.Key).Consumed));
            if (sequence is not null) lag += Math.Max(0, publisher.Clicks - sequence.Consumed);
            if (knowledge is not null) lag += Math.Max(0, publisher.Items - knowledge.Stats.Consumed);
            return lag;
        }
        var publishing = publisher.PublishAsync(source, ParseSpeed(args.Get("speed")), ct, Lag, args.GetInt("max-backlog", 50_000));

        long lastIngested = 0, lastLag = -1;
        var stalled = Stopwatch.StartNew();
        var lastTick = clock.Elapsed;
        while (true)
        {
            if (publishing.IsCompleted) await Task.Delay(500, ct);
            else await Task.WhenAny(publishing, Task.Delay(1_000, ct));
            if (publishing.IsFaulted) await publishing; // surfaces the source's error (bad file, bad mapping)
            var published = publisher.PublishedByTopic;
            var consumed = published.Keys.ToDictionary(t => t, t => stats.For(t).Consumed);
            var ingested = consumed.Values.Sum();
            var lag = Lag();
            var now = clock.Elapsed;
            var rate = (ingested - lastIngested) / Math.Max(0.001, (now - lastTick).TotalSeconds);
            (lastIngested, lastTick) = (ingested, now);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{now:mm\\:ss}] published {publisher.Total,10:N0} (items {publisher.Items:N0}, clicks {publisher.Clicks:N0}, impressions {publisher.Impressions:N0}) | ingested {ingested,10:N0} | {rate,9:N0} ev/s | lag {lag,8:N0} | DLQ {dlq.Count:N0}"));
            if (publishing.IsCompleted && lag == 0) break;
            // A backlog that stops moving after publishing ended will not drain: records were lost in the log (the
            // embedded broker drops its oldest data beyond ~5 MB per partition) or a role is stuck. Say so, don't hang.
            if (publishing.IsCompleted && lag == lastLag)
            {
                if (stalled.Elapsed > StallLimit)
                {
                    Console.Error.WriteLine($"replay: {lag:N0} published records were not processed within {StallLimit.TotalSeconds:F0} s after publishing ended; " +
                        "look for 'offset reset' warnings (records dropped by the log before they were read) or failing batches in the log. Summarising what was processed.");
                    await PrintSummaryAsync(services, source, publisher, stats, dlq, clock.Elapsed, ct);
                    return 1;
                }
            }
            else stalled.Restart();
            lastLag = lag;
        }

        await PrintSummaryAsync(services, source, publisher, stats, dlq, clock.Elapsed, ct);
        return 0;
    }

    private static async Task PrintSummaryAsync(IServiceProvider services, IReplaySource source, ReplayPublisher publisher, IngestStats stats,
        DeadLetterPublisher dlq, TimeSpan elapsed, CancellationToken ct)
    {
        var db = services.GetRequiredService<NpgsqlDataSource>();
        async Task<long> Scalar(string sql)
        {
            await using var cmd = db.CreateCommand(sql);
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
        }
        var total = publisher.Total;
        Console.WriteLine();
        Console.WriteLine($"== replay {source.Name}: summary");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   elapsed            {elapsed.TotalSeconds:F1} s ({total / Math.Max(0.001, elapsed.TotalSeconds):N0} records/s end to end)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   source read        {source.Stats.Read:N0} input units; skipped {source.Stats.SkippedTotal:N0}"));
        foreach (var (reason, count) in source.Stats.Skipped)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"     skipped {reason,-24} {count,10:N0}"));
        foreach (var topic in new[] { Topics.ItemUpdates, Topics.Clicks, Topics.Impressions })
        {
            var t = stats.For(topic);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"   {topic,-22} published {publisher.PublishedByTopic[topic],10:N0}  accepted {t.Accepted,10:N0}  duplicates {t.Duplicates,8:N0}  dead-lettered {t.DeadLettered,6:N0}"));
        }
        var (items, users, clicks, impressions) = (await Scalar("select count(*) from items"), await Scalar("select count(distinct user_id) from user_clicks"),
            await Scalar("select count(*) from user_clicks"), await Scalar("select count(*) from impressions"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"   state              {items:N0} items, {users:N0} users, {clicks:N0} retained clicks, {impressions:N0} impressions"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   dead letters       {dlq.Count:N0}"));
        if (services.GetService<SequenceProcessor>() is { } sequence)
        {
            Console.WriteLine($"   sequence gaps      {sequence.Published:N0} SequenceUpdates published");
            SequenceCommand.PrintStatistics(SequenceCommand.Merge(sequence.Statistics()), "   ");
        }
        if (services.GetService<KnowledgeProcessor>() is { Stats: var k })
        {
            await services.GetRequiredService<SemanticIdTrainer>().RunOnceAsync(ct); // train now if due, so the summary can report it
            var ids = services.GetRequiredService<SemanticIdModelHolder>().Pointer;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"   item knowledge     {k.Published:N0} published, {k.Unchanged:N0} unchanged, {k.DeadLettered:N0} dead-lettered, {k.CategoryAssigned:N0} categories assigned, {k.RejectedEvidence:N0} evidence spans rejected"));
            var taxonomies = await Scalar("select count(*) from taxonomies");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"   taxonomies         {taxonomies:N0} versions; cache hits {k.TaxonomyCacheHits:N0}, misses {k.TaxonomyCacheMisses:N0}"));
            Console.WriteLine(ids is null ? "   semantic ids       no model yet" : string.Create(CultureInfo.InvariantCulture,
                $"   semantic ids       {ids.Version} on {ids.TrainedOnItems:N0} items: collision rate {ids.CollisionRate:F4}, codebook usage {string.Join(" / ", ids.CodebookUsage.Select(u => u.ToString("P1", CultureInfo.InvariantCulture)))}; {k.Republished:N0} re-published"));
        }
        PrintEvaluation();
    }

    /// <summary>The representation evaluation (paper Table 1) last recorded by `reaseq eval representations`, when present.</summary>
    private static void PrintEvaluation()
    {
        var path = Path.Combine("eval", "results", "representations.json");
        if (!File.Exists(path)) return;
        var report = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        Console.WriteLine($"   evaluation         HR@k / macro recall on Online Retail from {path} (reaseq eval representations):");
        foreach (var method in report["methods"]!.AsArray())
        {
            var hr = method!["hit_rate_percent"]!.AsObject().Select(kv => $"{kv.Key} {kv.Value!.GetValue<double>():F1}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"     {method["method"]!.GetValue<string>(),-10} {string.Join("  ", hr)}  macro recall {method["macro_recall_percent"]!.GetValue<double>():F2}"));
        }
    }
}
