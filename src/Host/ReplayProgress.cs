using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Ingest;
using ReaSeq.Ingestors.Replay;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Dllm;
using ReaSeq.Processors.Knowledge.Streaming;
using ReaSeq.Processors.Sequence.Streaming;
using ReaSeq.Processors.Trainer;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ReaSeq.Host;

/// <summary>
/// Drives a replay through the running roles: live progress on stderr (a Spectre table on a terminal, a plain line
/// every few seconds otherwise), then a summary table on stdout once every published record is processed.
/// </summary>
public static class ReplayProgress
{
    private static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(2);
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>One look at the replay: every figure the progress display and the stall check need.</summary>
    private sealed record Snapshot(
        TimeSpan Elapsed, long Published, long Items, long Clicks, long Impressions, long Ingested, double Rate,
        IReadOnlyList<(string Role, long Lag)> Lags, long DeadLetters, long? Gaps, long? Knowledge, string? Dllm = null)
    {
        public long Lag => Lags.Sum(l => l.Lag);

        /// <summary>The rows of the live table; new figures (fills, model versions) are new rows here.</summary>
        public IEnumerable<(string Name, string Value)> Rows()
        {
            yield return ("elapsed", $"{Elapsed:mm\\:ss}");
            yield return ("published", string.Create(Inv, $"{Published:N0}  (items {Items:N0}, clicks {Clicks:N0}, impressions {Impressions:N0})"));
            yield return ("ingested", string.Create(Inv, $"{Ingested:N0}"));
            yield return ("events/s", string.Create(Inv, $"{Rate:N0}"));
            foreach (var (role, lag) in Lags) yield return ($"lag {role}", string.Create(Inv, $"{lag:N0}"));
            yield return ("dead letters", string.Create(Inv, $"{DeadLetters:N0}"));
            if (Gaps is { } gaps) yield return ("sequence updates", string.Create(Inv, $"{gaps:N0}"));
            if (Knowledge is { } knowledge) yield return ("knowledge items", string.Create(Inv, $"{knowledge:N0}"));
            if (Dllm is { } dllm) yield return ("dllm", dllm);
        }

        public string Line() => string.Join(" | ", Rows().Select(r => r.Name == "elapsed" ? $"[{r.Value}]" : $"{r.Name} {r.Value}"));
    }

    public static async Task<int> RunAsync(IServiceProvider services, IReplaySource source, ReplaySettings settings, IngestStats stats, CancellationToken ct)
    {
        var kafka = services.GetRequiredService<IKafkaClientSupplier>();
        using var producer = new ContractProducer(kafka, "reaseq-replay", services.GetService<ISchemaRegistry>());
        var publisher = new ReplayPublisher(producer);
        var dlq = services.GetRequiredService<DeadLetterPublisher>();
        var sequence = services.GetService<SequenceProcessor>();
        var knowledge = services.GetService<KnowledgeProcessor>();
        var trainer = services.GetService<CtrTrainerProcessor>();
        var dllm = services.GetService<DllmProgress>();
        var clock = Stopwatch.StartNew();
        Console.Error.WriteLine($"replay {source.Name}: publishing {(settings.Speed > 0 ? $"at {settings.SpeedText}" : "as fast as possible")}…");

        // Published but not yet processed, per running role: the replay's lag, and its backpressure signal.
        List<(string Role, long Lag)> Lags()
        {
            var lags = new List<(string, long)>();
            var ingest = publisher.PublishedByTopic.Sum(p => Math.Max(0, p.Value - stats.For(p.Key).Consumed));
            lags.Add(("ingest", ingest));
            if (sequence is not null) lags.Add(("sequence", Math.Max(0, publisher.Clicks - sequence.Consumed)));
            if (knowledge is not null) lags.Add(("knowledge", Math.Max(0, publisher.Items - knowledge.Stats.Consumed)));
            if (trainer is not null) lags.Add(("trainer", Math.Max(0, publisher.Impressions - trainer.Consumed)));
            if (dllm?.Lag(sequence?.Published ?? 0) is { } dllmLag) lags.Add(("dllm", dllmLag));
            return lags;
        }
        var publishing = publisher.PublishAsync(source, settings.Speed, ct, () => Lags().Sum(l => l.Lag), settings.MaxBacklog);

        long lastIngested = 0;
        var lastTick = TimeSpan.Zero;
        Snapshot Take()
        {
            var ingested = publisher.PublishedByTopic.Keys.Sum(t => stats.For(t).Consumed);
            var now = clock.Elapsed;
            var rate = (ingested - lastIngested) / Math.Max(0.001, (now - lastTick).TotalSeconds);
            (lastIngested, lastTick) = (ingested, now);
            return new Snapshot(now, publisher.Total, publisher.Items, publisher.Clicks, publisher.Impressions, ingested, rate, Lags(), dlq.Count,
                sequence?.Published, knowledge?.Stats.Published, dllm?.Row());
        }

        bool stalled;
        if (ConsoleSettings.ErrorIsTerminal)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            var result = false;
            await console.Live(Table(Take(), source.Name)).AutoClear(false).StartAsync(async live =>
            {
                result = await WatchAsync(publishing, Take, s => live.UpdateTarget(Table(s, source.Name)), TimeSpan.FromMilliseconds(500), ct);
            });
            stalled = result;
        }
        else
        {
            stalled = await WatchAsync(publishing, Take, s => Console.Error.WriteLine($"replay {source.Name}: {s.Line()}"), PlainEvery, ct);
        }

        if (stalled)
        {
            Console.Error.WriteLine($"replay: records published were not processed within {StallLimit.TotalSeconds:F0} s after publishing ended; " +
                "look for 'offset reset' warnings (records dropped by the log before they were read) or failing batches in the log. Summarising what was processed.");
        }

        await PrintSummaryAsync(services, source, publisher, stats, dlq, clock.Elapsed, ct);
        return stalled ? 1 : 0;
    }

    /// <summary>Shows snapshots until publishing ended and every role caught up; true when the backlog stopped draining.</summary>
    private static async Task<bool> WatchAsync(Task publishing, Func<Snapshot> take, Action<Snapshot> show, TimeSpan every, CancellationToken ct)
    {
        long lastLag = -1;
        var stalled = Stopwatch.StartNew();
        var sinceShown = Stopwatch.StartNew();
        while (true)
        {
            await Task.WhenAny(publishing, Task.Delay(publishing.IsCompleted ? 250 : 500, ct));
            ct.ThrowIfCancellationRequested();
            if (publishing.IsFaulted) await publishing; // the source's error (bad file, unsorted rows, too many bad rows)
            var snapshot = take();
            var done = publishing.IsCompleted && snapshot.Lag == 0;
            if (done || sinceShown.Elapsed >= every)
            {
                show(snapshot);
                sinceShown.Restart();
            }
            if (done) return false;
            // A backlog that stops moving after publishing ended will not drain: records were lost in the log (the
            // embedded broker drops its oldest data beyond ~5 MB per partition) or a role is stuck. Say so, don't hang.
            if (publishing.IsCompleted && snapshot.Lag == lastLag)
            {
                if (stalled.Elapsed > StallLimit) return true;
            }
            else
            {
                stalled.Restart();
            }

            lastLag = snapshot.Lag;
        }
    }

    private static Table Table(Snapshot s, string source)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"replay {Markup.Escape(source)}")
            .AddColumn("").AddColumn(new TableColumn("").RightAligned());
        table.ShowHeaders = false;
        foreach (var (name, value) in s.Rows()) table.AddRow(new Text(name), new Text(value));
        return table;
    }

    private static IAnsiConsole Stdout()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected) console.Profile.Width = 160; // files and pipes: no wrapping at 80 columns
        return console;
    }

    private static async Task PrintSummaryAsync(IServiceProvider services, IReplaySource source, ReplayPublisher publisher, IngestStats stats,
        DeadLetterPublisher dlq, TimeSpan elapsed, CancellationToken ct)
    {
        var db = services.GetRequiredService<NpgsqlDataSource>();
        async Task<long> Scalar(string sql)
        {
            await using var cmd = db.CreateCommand(sql);
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), Inv);
        }
        var total = publisher.Total;
        var rows = new List<(string, string)>
        {
            ("elapsed", string.Create(Inv, $"{elapsed.TotalSeconds:F1} s ({total / Math.Max(0.001, elapsed.TotalSeconds):N0} records/s end to end)")),
            ("source read", string.Create(Inv, $"{source.Stats.Read:N0} input units; skipped {source.Stats.SkippedTotal:N0}")),
        };
        foreach (var (reason, count) in source.Stats.Skipped) rows.Add(($"  skipped {reason}", string.Create(Inv, $"{count:N0}")));
        var (items, users, clicks, impressions) = (await Scalar("select count(*) from items"), await Scalar("select count(distinct user_id) from user_clicks"),
            await Scalar("select count(*) from user_clicks"), await Scalar("select count(*) from impressions"));
        rows.Add(("state", string.Create(Inv, $"{items:N0} items, {users:N0} users, {clicks:N0} retained clicks, {impressions:N0} impressions")));
        rows.Add(("dead letters", string.Create(Inv, $"{dlq.Count:N0}")));
        var sequence = services.GetService<SequenceProcessor>();
        if (sequence is not null) rows.Add(("sequence gaps", string.Create(Inv, $"{sequence.Published:N0} SequenceUpdates published")));
        if (services.GetService<CtrTrainerProcessor>() is { } ctrTrainer) rows.AddRange(TrainerRows(ctrTrainer, services.GetRequiredService<TrainerMetrics>()));
        if (services.GetService<DllmProgress>() is { } dllm)
        {
            // A first model may only be due now that every window is kept; fill what the sequence role published.
            await dllm.CatchUpAsync(sequence?.Published ?? 0, TimeSpan.FromMinutes(3), ct);
            rows.AddRange(await dllm.SummaryAsync(ct));
        }
        if (services.GetService<KnowledgeProcessor>() is { Stats: var k })
        {
            var trainer = services.GetRequiredService<SemanticIdTrainer>();
            await trainer.RunOnceAsync(ct); // train now if due (as the deployment's leader), so the summary can report it
            var ids = services.GetRequiredService<SemanticIdModelHolder>().Pointer;
            var adapter = services.GetRequiredService<IuiAdapterHolder>();
            rows.Add(("item knowledge", string.Create(Inv,
                $"{k.Published:N0} published, {k.Unchanged:N0} unchanged, {k.DeadLettered:N0} dead-lettered, {k.CategoryAssigned:N0} categories assigned, {k.RejectedEvidence:N0} evidence spans rejected")));
            var taxonomies = await Scalar("select count(*) from taxonomies");
            rows.Add(("taxonomies", string.Create(Inv, $"{taxonomies:N0} versions; cache hits {k.TaxonomyCacheHits:N0}, misses {k.TaxonomyCacheMisses:N0}")));
            rows.Add(("semantic ids", ids is null ? "no model yet" : string.Create(Inv,
                $"{ids.Version} on {ids.TrainedOnItems:N0} items: collision rate {ids.CollisionRate:P2} (RQ-VAE codes), " +
                $"{(trainer.PublishedCollisionRate is { } full ? full.ToString("P2", Inv) : "n/a")} (full ids as stored, with the de-duplication level); " +
                $"codebook usage {string.Join(" / ", ids.CodebookUsage.Select(u => u.ToString("P1", Inv)))}; {k.Republished:N0} re-published")));
            rows.Add(("IUI adapter", !adapter.Enabled ? "off (Knowledge:Iui:Enabled)" : adapter.Pointer is not { } iui ? "on, not trained yet (too few clicks)" : string.Create(Inv,
                $"{iui.Version}: {iui.Pairs:N0} pairs from {iui.TrainedOnClicks:N0} clicks, final loss {iui.FinalLoss:F3}; vectors downstream are adapted")));
        }

        var console = Stdout();
        var summary = new Table().Border(TableBorder.Rounded).Title($"replay {Markup.Escape(source.Name)}: summary").AddColumn("").AddColumn("");
        summary.ShowHeaders = false;
        foreach (var (name, value) in rows) summary.AddRow(new Text(name), new Text(value));
        console.Write(summary);

        var topics = new Table().Border(TableBorder.Rounded).AddColumn("topic");
        foreach (var column in new[] { "published", "accepted", "duplicates", "dead-lettered" }) topics.AddColumn(new TableColumn(column).RightAligned());
        foreach (var topic in new[] { Topics.ItemUpdates, Topics.Clicks, Topics.Impressions })
        {
            var t = stats.For(topic);
            topics.AddRow(new IRenderable[]
            {
                new Text(topic), new Text(publisher.PublishedByTopic[topic].ToString("N0", Inv)), new Text(t.Accepted.ToString("N0", Inv)),
                new Text(t.Duplicates.ToString("N0", Inv)), new Text(t.DeadLettered.ToString("N0", Inv)),
            });
        }
        console.Write(topics);
        if (sequence is not null) SequenceCommand.PrintStatistics(SequenceCommand.Merge(sequence.Statistics()), "   ");
        PrintEvaluation(console);
    }

    /// <summary>Prequential AUC / GAUC over the trainer's rolling window and its latest registry version (issue 10 §4, §5).</summary>
    private static IEnumerable<(string, string)> TrainerRows(CtrTrainerProcessor trainer, TrainerMetrics metrics)
    {
        static string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F4", Inv);
        var e = trainer.Evaluate();
        if (e is null)
        {
            yield return ("ctr trainer", metrics.IsLeader ? "no impressions trained yet" : "standing by (another trainer leads)");
            yield break;
        }
        var sampled = trainer.TrainFraction < 1 ? string.Create(Inv, $" (Trainer:TrainFraction {trainer.TrainFraction:P0}; {trainer.SkippedBySampling:N0} skipped)") : "";
        yield return ("ctr prequential", string.Create(Inv,
            $"{e.SamplesSeen:N0} impressions trained{sampled}; window of {e.Overall.Samples:N0}: AUC {F(e.Overall.Auc)} GAUC {F(e.Overall.Gauc)} | sparse users AUC {F(e.Sparse.Auc)} GAUC {F(e.Sparse.Gauc)} | active users AUC {F(e.Active.Auc)} GAUC {F(e.Active.Gauc)}"));
        yield return ("ctr model", metrics.LatestVersion is null
            ? $"no version published yet (cadence Trainer:VersionIntervalMs); resumed from {trainer.BaseVersion ?? "fresh weights"}"
            : string.Create(Inv, $"{metrics.LatestVersion}; freshness {metrics.LastFreshnessSeconds:F1} s; {trainer.DeadLettered:N0} impressions dead-lettered"));
    }

    /// <summary>The representation evaluation (paper Table 1) last recorded by `reaseq-tools eval representations`, when present.</summary>
    private static void PrintEvaluation(IAnsiConsole console)
    {
        var path = Path.Combine("eval", "results", "representations.json");
        if (!File.Exists(path)) return;
        var report = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        var table = new Table().Border(TableBorder.Rounded).Title($"HR@k / macro recall on Online Retail ({Markup.Escape(path)})").AddColumn("method");
        var methods = report["methods"]!.AsArray();
        var ks = methods.FirstOrDefault()?["hit_rate_percent"]?.AsObject().Select(kv => kv.Key).ToList() ?? [];
        foreach (var k in ks) table.AddColumn(new TableColumn(Markup.Escape(k)).RightAligned());
        table.AddColumn(new TableColumn("macro recall").RightAligned());
        foreach (var method in methods)
        {
            var cells = new List<IRenderable> { new Text(method!["method"]!.GetValue<string>()) };
            foreach (var k in ks) cells.Add(new Text(method["hit_rate_percent"]![k]!.GetValue<double>().ToString("F1", Inv)));
            cells.Add(new Text(method["macro_recall_percent"]!.GetValue<double>().ToString("F2", Inv)));
            table.AddRow(cells);
        }
        console.Write(table);
    }
}
