using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ReaSeq.Contracts;
using ReaSeq.Host;
using ReaSeq.Ingestors.Replay;
using ReaSeq.Ingestors.Replay.OnlineRetail;
using ReaSeq.Models.Ctr;
using ReaSeq.Models.SemanticIds;
using ReaSeq.Models.Training;
using ReaSeq.Processors.Knowledge.Encoders;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Trainer;
using ReaSeq.Tools.Eval.Gbr;

namespace ReaSeq.Tools.Eval;

/// <summary>
/// `reaseq-tools eval ctr`: the paper's Table 3 ablation (§4.1.2) on Online Retail, with the trainer's own
/// point-in-time features (<see cref="PointInTimeFeatures"/>) and streaming learner (<see cref="OnlineCtrLearner"/>).
/// Online Retail logs purchases, not impressions: the replay's labeled impressions (each purchase a positive, plus
/// negatives drawn by popularity-so-far at the same moment, <see cref="PopularityNegativeSampler"/>) stand in for them.
/// A time-ordered split: the earlier impressions train prequentially (scored, then trained on), the later ones are
/// held out (scored only).
/// </summary>
public static class CtrEvalCommand
{
    public static readonly IReadOnlyList<(string Name, Action<CtrModelOptions> Configure)> Ablation =
    [
        ("base", o => Set(o, retrieval: false, compression: false, sid: false)),
        ("base+retrieval", o => Set(o, retrieval: true, compression: false, sid: false)),
        ("base+compression", o => Set(o, retrieval: false, compression: true, sid: false)),
        ("base+compression+sid", o => Set(o, retrieval: false, compression: true, sid: true)),
        ("all", o => Set(o, retrieval: true, compression: true, sid: true)),
    ];

    // Paper Table 3: lifts (absolute %, AUC and GAUC) over its base, overall / hot / cold-start users.
    private static readonly Dictionary<string, double[]> PaperLifts = new(StringComparer.Ordinal)
    {
        ["base+retrieval"] = [0.12, 0.20, 0.10, 0.24, 0.15, 0.31],
        ["base+compression"] = [0.18, 0.34, 0.16, 0.31, 0.27, 0.35],
        ["base+compression+sid"] = [0.20, 0.36, 0.17, 0.33, 0.36, 0.39],
        ["all"] = [0.29, 0.41, 0.29, 0.40, 0.39, 0.45],
    };

    public static Command Create()
    {
        var path = CliParsers.ExistingFile("--path", "Online Retail CSV (default: online_retail.csv.gz in ../shared/data/online-retail or REASEQ_ONLINE_RETAIL_DIR)");
        var sample = new Option<bool>("--sample") { Description = "Use the 2,000-row sample of the shared folder instead of the whole file" };
        var maxImpressions = CliParsers.Int("--max-impressions", "Keep a user sample with about this many impressions (0: all)", 60_000, 0);
        var history = CliParsers.Int("--history", "Newest purchases in the sequence", 50, 1, 10_000);
        var testFraction = CliParsers.Double("--test-fraction", "Share of impressions (the latest) held out", 0.2, 0.01, 0.9);
        var threads = CliParsers.Int("--threads", "libtorch CPU threads", 1, 1, 64);
        var vectorKind = new Option<string>("--vectors")
        {
            Description = "Item representation: knowledge (§2.1.2 pipeline, slow on a small machine: about 1 item/s under load) or title (MiniLM of the raw title)",
            HelpName = "knowledge|title",
            DefaultValueFactory = _ => "title",
        };
        vectorKind.AcceptOnlyFromAmong("knowledge", "title");
        var output = new Option<string>("--out") { Description = "Folder of ctr.json/.png", HelpName = "DIR", DefaultValueFactory = _ => Path.Combine("eval", "results") };
        var cache = new Option<string>("--cache") { Description = "Folder of cached item vectors", HelpName = "DIR", DefaultValueFactory = _ => Path.Combine(".state", "eval") };
        var defaults = new CtrTable6Options();
        var skipTable6 = new Option<bool>("--skip-table6") { Description = "Leave out paper Table 6 (the GBR-extended sequence, §4.2.4)" };
        var dllmEpochs = CliParsers.Int("--dllm-epochs", "Training passes of each Table 6 DLLM over its training-period windows", defaults.Epochs, 1, 100);
        var command = new Command("ctr", "CTR ablation (paper Table 3, §4.1.2) of the trainer's pathways and the GBR-extended sequence (Table 6, §4.2.4) on Online Retail, prequential and held out")
        {
            path, sample, maxImpressions, history, testFraction, threads, vectorKind, output, cache, skipTable6, dllmEpochs,
        };
        command.SetAction((r, ct) => RunAsync(EvalCommand.ResolvePath(r.GetValue(path), r.GetValue(sample)), r.GetValue(maxImpressions), r.GetValue(history),
            r.GetValue(testFraction), r.GetValue(threads), r.GetValue(vectorKind)!, r.GetValue(output)!, new VectorCache(r.GetValue(cache)!), ct,
            new CtrTable6Options { Skip = r.GetValue(skipTable6), Epochs = r.GetValue(dllmEpochs) }));
        return command;
    }

    public static async Task<int> RunAsync(string path, int maxImpressions, int history, double testFraction, int threads, string vectorKind,
        string outputDirectory, VectorCache cache, CancellationToken ct, CtrTable6Options? table6Options = null)
    {
        table6Options ??= new CtrTable6Options();
        var clock = Stopwatch.StartNew();
        TorchDevice.SetCpuThreads(threads);
        Console.Error.WriteLine($"eval ctr: reading {path}…");
        var data = EvalDataset.Load(new OnlineRetailSource(path, new OnlineRetailOptions { NegativesPerPurchase = 0 }), ct);
        var (vectors, vectorNote) = await ItemVectorsAsync(vectorKind, data, cache, ct);
        var vectorOf = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int i = 0; i < data.Items.Count; i++)
        {
            if (vectors[i] is { } v) vectorOf[data.Items[i].ItemId] = v;
        }

        // §2.2.2 / Appendix C: semantic ids from an RQ-VAE over the same knowledge vectors.
        var withVectors = vectorOf.Keys.Order(StringComparer.Ordinal).ToList();
        // A small file (a test's, --sample) has too few items for 256 codes per level: halve the codebook until k-means has enough points.
        int codebook = 256;
        while (codebook > 2 && withVectors.Count < KMeans.DefaultMinPointsPerCode * codebook) codebook /= 2;
        using var sidModel = new RqVaeTrainer(new RqVaeOptions { Epochs = 10, Device = "cpu", CodebookSize = codebook }).Train(withVectors.Select(id => vectorOf[id]).ToList(), cancellationToken: ct);
        var codes = sidModel.AssignIds(withVectors.Select(id => vectorOf[id]).ToList());
        var sidOf = withVectors.Select((id, i) => (id, codes[i])).ToDictionary(x => x.id, x => x.Item2, StringComparer.Ordinal);
        Console.Error.WriteLine($"eval ctr: {vectorOf.Count:N0} items with vectors ({vectorNote}); semantic ids {sidModel.Version}");

        var stream = ReadStream(path, ct);
        var keep = SampleUsers(stream.Impressions, maxImpressions);
        var examples = BuildExamples(stream, keep, vectorOf, sidOf, history, null);
        int split = (int)Math.Round(examples.Count * (1 - testFraction));
        long splitTs = examples[split].TsMs;
        while (split > 0 && examples[split - 1].TsMs == splitTs) split--;
        var train = examples.Take(split).Select(e => e.Example).ToList();
        var test = examples.Skip(split).Select(e => e.Example).ToList();
        Console.Error.WriteLine($"eval ctr: {examples.Count:N0} impressions of {keep.Count:N0} users ({examples.Count(e => e.Example.Label > 0):N0} positive); " +
                                $"{train.Count:N0} prequential, {test.Count:N0} held out from {Utc(splitTs)}");

        var rows = new List<(string Name, CtrEvaluationSnapshot Prequential, CtrEvaluationSnapshot HeldOut, double Seconds)>();
        foreach (var (name, configure) in Ablation)
        {
            ct.ThrowIfCancellationRequested();
            var (prequential, held, seconds) = RunRow(name, configure, train, test, history);
            rows.Add((name, prequential, held, seconds));
        }

        var table6 = table6Options.Skip
            ? new List<Table6Row>()
            : RunTable6(data, stream, keep, vectorOf, sidOf, history, split, splitTs, table6Options, ct);
        var document = Report(path, examples.Count, keep.Count, train.Count, test.Count, splitTs, history, vectorNote, sidModel.Version, rows, clock.Elapsed);
        document["table6"] = Table6Report(table6, table6Options, history, rows[0].HeldOut);
        document.Remove("elapsed_seconds");
        document.Remove("machine_note");
        document["elapsed_seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        document["machine_note"] = "2 shared CPU cores, loaded by other work during the run";
        Console.WriteLine(Table(rows));
        if (table6.Count > 0) Console.WriteLine(Table6Text(table6));
        var jsonPath = Path.Combine(outputDirectory, "ctr.json");
        var pngPath = Path.Combine(outputDirectory, "ctr.png");
        await EvalReport.WriteJsonAsync(jsonPath, document, ct);
        WritePng(pngPath, rows, table6);
        Console.Error.WriteLine($"eval ctr: wrote {jsonPath} and {pngPath} in {clock.Elapsed.TotalMinutes:F1} min");
        return 0;
    }

    private sealed record ReplayStream(Dictionary<string, ItemUpdateInfo> Items, List<(string User, string Item, long TsMs)> Clicks, List<LabeledImpression> Impressions);

    private sealed record ItemUpdateInfo(string? Category, double? Price, long TsMs);

    private sealed record TimedExample(long TsMs, CtrExample Example);

    private static ReplayStream ReadStream(string path, CancellationToken ct)
    {
        var items = new Dictionary<string, ItemUpdateInfo>(StringComparer.Ordinal);
        var clicks = new List<(string, string, long)>();
        var impressions = new List<LabeledImpression>();
        foreach (var record in new OnlineRetailSource(path, new OnlineRetailOptions()).Read(ct))
        {
            switch (record)
            {
                case ReplayItem { Item: var item }:
                    var known = items.GetValueOrDefault(item.ItemId);
                    items[item.ItemId] = new ItemUpdateInfo(item.CategoryPath.Count > 0 ? item.CategoryPath[^1] : null, item.Price, Math.Min(known?.TsMs ?? long.MaxValue, item.TsMs));
                    break;
                case ReplayClick { Click: var click }:
                    clicks.Add((click.UserId, click.ItemId, click.TsMs));
                    break;
                case ReplayImpression { Impression: var impression }:
                    impressions.Add(impression);
                    break;
            }
        }
        return new ReplayStream(items, clicks, impressions);
    }

    /// <summary>A stable user sample (hash of the id) holding about <paramref name="maxImpressions"/> impressions.</summary>
    private static HashSet<string> SampleUsers(List<LabeledImpression> impressions, int maxImpressions)
    {
        var users = impressions.Select(i => i.UserId).ToHashSet(StringComparer.Ordinal);
        if (maxImpressions <= 0 || impressions.Count <= maxImpressions) return users;
        double fraction = maxImpressions / (double)impressions.Count;
        return users.Where(u => (Fnv(u) % 10_000) < fraction * 10_000).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Point-in-time examples in time order: impressions at time t see clicks strictly before t (the purchase that
    /// made a positive happens at t and is applied after), item knowledge and catalog entries from before t.
    /// <c>augmented</c> gives the user's augmented sequence as of the impression (user, impression time, purchases before
    /// it); without it the examples have the observed sequence alone.
    /// </summary>
    private static List<TimedExample> BuildExamples(ReplayStream stream, HashSet<string> users, Dictionary<string, float[]> vectors,
        Dictionary<string, int[]> sids, int history, Func<string, long, int, AugmentedRecord?>? augmented)
    {
        var features = new Dictionary<string, ItemFeatures?>(StringComparer.Ordinal);
        ItemFeatures? Lookup(string id)
        {
            if (features.TryGetValue(id, out var f)) return f;
            var info = stream.Items.GetValueOrDefault(id);
            features[id] = f = info is null ? null : new ItemFeatures(id, vectors.GetValueOrDefault(id), sids.GetValueOrDefault(id), "eval",
                info.TsMs, CtrBuckets.CategoryBucket(info.Category), CtrBuckets.PriceBucket(info.Price), info.TsMs);
            return f;
        }
        var clicksOf = new Dictionary<string, List<UserClick>>(StringComparer.Ordinal);
        var popularity = new Dictionary<string, long>(StringComparer.Ordinal);
        var examples = new List<TimedExample>();
        var impressions = stream.Impressions.Where(i => users.Contains(i.UserId)).OrderBy(i => i.TsMs).ToList();
        var clicks = stream.Clicks.OrderBy(c => c.TsMs).ToList();
        int next = 0;
        foreach (var impression in impressions)
        {
            // Apply every click strictly before this impression.
            for (; next < clicks.Count && clicks[next].TsMs < impression.TsMs; next++)
            {
                var (user, item, ts) = clicks[next];
                popularity[item] = popularity.GetValueOrDefault(item) + 1;
                if (!users.Contains(user)) continue;
                if (!clicksOf.TryGetValue(user, out var list)) clicksOf[user] = list = [];
                list.Add(new UserClick(item, ts));
            }
            var all = clicksOf.GetValueOrDefault(impression.UserId) ?? [];
            var tail = all.Count <= history ? all : all.GetRange(all.Count - history, history);
            var record = augmented?.Invoke(impression.UserId, impression.TsMs, all.Count);
            var example = PointInTimeFeatures.Build(impression, tail, record is null ? null : [record], Lookup, popularity.GetValueOrDefault(impression.ItemId), history);
            examples.Add(new TimedExample(impression.TsMs, example with { User = example.User with { ClickCount = all.Count } }));
        }
        return examples;
    }

    /// <summary>
    /// One streaming pass over the earlier impressions (each scored, then trained on in 256-impression mini-batches),
    /// then the held-out ones scored; the same seed for every row, so rows differ only in their pathways and inputs.
    /// </summary>
    private static (CtrEvaluationSnapshot Prequential, CtrEvaluationSnapshot HeldOut, double Seconds) RunRow(string name, Action<CtrModelOptions> configure,
        List<CtrExample> train, List<CtrExample> test, int history)
    {
        var options = new CtrModelOptions { MaxHistory = history, Device = "cpu" };
        configure(options);
        Determinism.Seed(7);
        var run = Stopwatch.StartNew();
        using var learner = new OnlineCtrLearner(CtrModel.Create(options), Math.Max(1, train.Count));
        for (int start = 0; start < train.Count; start += 256) learner.Step(train.GetRange(start, Math.Min(256, train.Count - start)));
        var prequential = learner.Evaluation.Evaluate();
        var heldOut = new RollingCtrEvaluation(Math.Max(1, test.Count));
        for (int start = 0; start < test.Count; start += 1024)
        {
            var batch = test.GetRange(start, Math.Min(1024, test.Count - start));
            var scores = learner.Score(batch);
            for (int i = 0; i < batch.Count; i++) heldOut.Add(batch[i].User.UserId, scores[i], batch[i].Label, batch[i].User.ClickCount);
        }
        var held = heldOut.Evaluate();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"eval ctr {name}: held-out AUC {held.Overall.Auc:F4} GAUC {held.Overall.Gauc:F4} (sparse {held.Sparse.Gauc:F4}, active {held.Active.Gauc:F4}); {train.Count / run.Elapsed.TotalSeconds:N0} samples/s"));
        return (prequential, held, run.Elapsed.TotalSeconds);
    }

    private sealed record Table6Row(string Name, string Gaps, CtrEvaluationSnapshot Prequential, CtrEvaluationSnapshot HeldOut, double FillSharePercent,
        int FilledStates, int DllmWindows, int DllmSteps, double DllmSeconds, double CtrSeconds);

    /// <summary>
    /// Paper Table 6 (§4.2.4): the base row of Table 3 (the observed sequence), then per row a DLLM trained on the
    /// purchases before the split and the same base model fed each impression's GBR-extended sequence. Fills are
    /// inferred per (user, purchases before the impression) from those purchases only (<see cref="CtrTable6.Fill"/>).
    /// </summary>
    private static List<Table6Row> RunTable6(EvalDataset data, ReplayStream stream, HashSet<string> keep, Dictionary<string, float[]> vectorOf,
        Dictionary<string, int[]> sidOf, int history, int split, long splitTs, CtrTable6Options options, CancellationToken ct)
    {
        var categories = data.Items.ToDictionary(i => i.ItemId, i => i.Category, StringComparer.Ordinal);
        // The CTR history's own purchases (every user, in replay order at equal times), so that a fill's position in the
        // augmented sequence lines up with the clicks PointInTimeFeatures aligns it with.
        var clicks = stream.Clicks
            .Select((c, i) => (c, i))
            .OrderBy(x => x.c.TsMs)
            .Select(x => new SequenceClick(x.c.User, "c" + x.i.ToString(CultureInfo.InvariantCulture), x.c.Item, x.c.TsMs, categories.GetValueOrDefault(x.c.Item)))
            .ToList();
        var detectClock = Stopwatch.StartNew();
        var detection = CtrTable6.Detect(clicks, splitTs, ct);
        var events = detection.Users.Where(u => keep.Contains(u.UserId)).ToDictionary(u => u.UserId, u => u.Events, StringComparer.Ordinal);
        var (table, rowIndex) = CtrTable6.Table(vectorOf);
        int RowOf(string id) => rowIndex.TryGetValue(id, out var r) ? r : -1;
        var moments = stream.Impressions.Where(i => keep.Contains(i.UserId)).Select(i => (i.UserId, i.TsMs)).ToList();
        Console.Error.WriteLine($"eval ctr table 6: gaps of {clicks.Count:N0} purchases detected in {detectClock.Elapsed.TotalSeconds:F0} s");

        var result = new List<Table6Row>();
        foreach (var (name, variant, loss) in CtrTable6.Rows)
        {
            ct.ThrowIfCancellationRequested();
            var (model, windows, steps, dllmSeconds) = CtrTable6.TrainDllm(detection, splitTs, variant, loss, table, RowOf, history, options, $"eval ctr {name} dllm", ct);
            Dictionary<(string User, int Before), AugmentedRecord> records;
            using (model) records = CtrTable6.Fill(model, table, RowOf, events, moments, variant, history, name, ct);
            var examples = BuildExamples(stream, keep, vectorOf, sidOf, history, (user, _, before) =>
            {
                if (!records.TryGetValue((user, before), out var record)) return null;
                // The record covers the same newest purchases as the history: anything else would misplace its fills.
                if (record.Observed.Count != Math.Min(history, before))
                    throw new InvalidOperationException($"{name}: the augmented sequence of {user} covers {record.Observed.Count} purchases, the history {Math.Min(history, before)}.");
                return record;
            });
            var train = examples.Take(split).Select(e => e.Example).ToList();
            var test = examples.Skip(split).Select(e => e.Example).ToList();
            long slots = 0, fills = 0;
            foreach (var example in test)
            {
                foreach (var slot in CtrBatchBuilder.Sequence(example.User, history))
                {
                    slots++;
                    if (slot.IsFill) fills++;
                }
            }
            var (prequential, held, seconds) = RunRow(name, o => Set(o, retrieval: false, compression: false, sid: false), train, test, history);
            result.Add(new Table6Row(name, GbrTable5.SequenceCommandName(variant), prequential, held, slots == 0 ? 0 : 100.0 * fills / slots,
                records.Count, windows, steps, dllmSeconds, seconds));
        }
        return result;
    }

    private static JsonObject Table6Report(List<Table6Row> rows, CtrTable6Options options, int history, CtrEvaluationSnapshot baseline)
    {
        var paper = new JsonArray();
        foreach (var (name, auc, gauc) in CtrTable6.Paper)
        {
            var (baseAuc, baseGauc) = (CtrTable6.Paper[0].Auc, CtrTable6.Paper[0].Gauc);
            paper.Add(new JsonObject
            {
                ["model"] = name,
                ["auc"] = auc,
                ["gauc"] = gauc,
                ["auc_lift_points"] = name == "base" ? null : Math.Round((auc - baseAuc) * 100, 2),
                ["gauc_lift_points"] = name == "base" ? null : Math.Round((gauc - baseGauc) * 100, 2),
            });
        }
        if (rows.Count == 0) return new JsonObject { ["status"] = "skipped (--skip-table6)", ["paper"] = paper };
        var array = new JsonArray { new JsonObject { ["model"] = "base", ["sequence"] = "observed", ["held_out"] = Segments(baseline), ["note"] = "Table 3's base row: the same model, seed and impressions" } };
        foreach (var row in rows)
        {
            var h = row.HeldOut;
            array.Add(new JsonObject
            {
                ["model"] = row.Name,
                ["sequence"] = $"observed + GBR fills at {row.Gaps} gaps",
                ["held_out"] = Segments(h),
                ["prequential"] = Segments(row.Prequential),
                ["lift_over_base_points"] = Lifts(h, baseline),
                ["fills_share_of_held_out_sequences_percent"] = Math.Round(row.FillSharePercent, 2),
                ["augmented_states"] = row.FilledStates,
                ["dllm"] = new JsonObject
                {
                    ["training_windows"] = row.DllmWindows,
                    ["steps"] = row.DllmSteps,
                    ["seconds"] = Math.Round(row.DllmSeconds, 1),
                },
                ["ctr_seconds"] = Math.Round(row.CtrSeconds, 1),
            });
        }
        return new JsonObject
        {
            ["rows"] = array,
            ["paper"] = paper,
            ["definitions"] = new JsonObject
            {
                ["model"] = "the base CTR model (DIN over the sequence, items as the run's item vectors, no retrieval/compression/semantic-id pathways) with the observed sequence replaced by the GBR-extended one, newest " + history + " positions (§4.2.4)",
                ["dllm"] = $"tiny LLaDA, {options.Layers} layers, d {options.ModelDim}, {options.Heads} heads (cut below the paper's 4 layers, d 128 to keep eval ctr within about 15 minutes on 2 shared cores), Eq. 7 loss, {options.Epochs} epochs over at most {options.MaxTrainWindows} windows of {history} purchases, batch {options.BatchSize}, Adam {options.LearningRate} with warm-up and cosine annealing",
                ["dllm_training_data"] = "every user's purchases before the split (the training period); labels Δ > θ under a Swing model trained on the same period",
                ["gaps"] = "one sequence detector pass over all purchases in time order: TD, time between baskets above T (an online p95 sketch); CD, consecutive primary categories differ",
                ["point_in_time"] = "an impression's fills are inferred from the user's newest purchases strictly before it and the gap decisions made as those arrived; the DLLM itself saw only the training period, so for held-out impressions neither its weights nor its inputs postdate them",
                ["not_run"] = "GBR-C-1 (CD with the point-wise cosine loss) is listed from the paper only",
            },
        };
    }

    private static string Table6Text(List<Table6Row> rows)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("== Table 6: the GBR-extended sequence in the base CTR model (held out; lift over base in points | paper)");
        foreach (var row in rows)
        {
            var paper = CtrTable6.Paper.First(p => p.Name == row.Name);
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Name,-8} AUC {row.HeldOut.Overall.Auc:F4} GAUC {row.HeldOut.Overall.Gauc:F4} sparse GAUC {row.HeldOut.Sparse.Gauc:F4} active GAUC {row.HeldOut.Active.Gauc:F4}; fills {row.FillSharePercent:F1}% of the sequence | paper AUC {paper.Auc:F4} GAUC {paper.Gauc:F4}"));
        }
        return text.ToString();
    }

    private static async Task<(IReadOnlyList<float[]?> Vectors, string Note)> ItemVectorsAsync(string kind, EvalDataset data, VectorCache cache, CancellationToken ct)
    {
        using var encoder = new MiniLmEncoder();
        var itemKey = data.Items.SelectMany(i => new[] { i.ItemId, i.Title, i.Category ?? "" });
        if (kind == "title")
        {
            // The same cache key as `eval representations`.
            var titleKey = VectorCache.Key(["title", encoder.ModelName], itemKey);
            var titles = cache.TryLoad("title", titleKey, data.Items.Count);
            if (titles is null) cache.Save("title", titleKey, titles = TitleVectors.Compute(encoder, data.Items, ct));
            return (titles, $"{encoder.ModelName} of the raw title (the knowledge pipeline runs at about 1 item/s on this loaded machine; --vectors knowledge uses it)");
        }
        var backend = KnowledgeVectors.Backend(encoder);
        // The same cache key as `eval representations`, so either evaluation reuses the other's vectors.
        var key = VectorCache.Key(["knowledge", encoder.ModelName, backend.Name, backend.PromptVersion], itemKey);
        var vectors = cache.TryLoad("knowledge", key, data.Items.Count);
        if (vectors is null) cache.Save("knowledge", key, vectors = (await KnowledgeVectors.ComputeAsync(encoder, data.Items, ct)).Vectors);
        return (vectors, $"{backend.Name} knowledge vectors encoded by {encoder.ModelName} (§2.1.2)");
    }

    private static JsonObject Report(string path, int impressions, int users, int train, int test, long splitTs, int history, string vectorNote,
        string sidVersion, List<(string Name, CtrEvaluationSnapshot Prequential, CtrEvaluationSnapshot HeldOut, double Seconds)> rows, TimeSpan elapsed)
    {
        var baseline = rows[0].HeldOut;
        var table3 = new JsonArray();
        foreach (var (name, prequential, held, seconds) in rows)
        {
            var lifts = Lifts(held, baseline);
            table3.Add(new JsonObject
            {
                ["pathways"] = name,
                ["held_out"] = Segments(held),
                ["prequential"] = Segments(prequential),
                ["lift_over_base_points"] = name == "base" ? null : lifts,
                ["paper_lift_points"] = PaperLifts.TryGetValue(name, out var paper)
                    ? new JsonObject
                    {
                        ["overall_auc"] = paper[0],
                        ["overall_gauc"] = paper[1],
                        ["hot_auc"] = paper[2],
                        ["hot_gauc"] = paper[3],
                        ["cold_start_auc"] = paper[4],
                        ["cold_start_gauc"] = paper[5],
                    }
                    : null,
                ["train_seconds"] = Math.Round(seconds, 1),
            });
        }
        return new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["file"] = Path.GetFileName(path),
                ["attribution"] = "Online Retail by Daqing Chen, UCI ML Repository, CC BY 4.0",
                ["impressions"] = impressions,
                ["users"] = users,
                ["prequential_impressions"] = train,
                ["held_out_impressions"] = test,
                ["split_utc"] = Utc(splitTs),
            },
            ["definitions"] = new JsonObject
            {
                ["impressions"] = "Online Retail has no impressions: each purchase line is a positive, and 4 items drawn by popularity so far (the replay's PopularityNegativeSampler, without the basket's own items) at the same moment are negatives",
                ["features"] = $"point in time (PointInTimeFeatures): the user's newest {history} purchases strictly before the impression, item knowledge vectors and catalog entries first seen before it, the candidate's purchases so far",
                ["vectors"] = vectorNote,
                ["semantic_ids"] = $"RQ-VAE over the knowledge vectors, {sidVersion}",
                ["split"] = "time ordered: the earlier impressions are trained on in one streaming pass of 256-impression mini-batches, each scored before it is trained on (prequential); the latest ones are held out and only scored",
                ["segments"] = "sparse users: the tail third of the segment's users by purchases before their latest impression (§4.2.1); active users: the others. The paper's 'cold-start' and 'hot' users are compared with these",
                ["gauc"] = "per-user AUC weighted by the user's impressions, over users with both labels",
                ["lift"] = "absolute difference to the base row, in points of AUC/GAUC ×100 (the paper's Table 3 unit)",
            },
            ["table3"] = table3,
            ["elapsed_seconds"] = Math.Round(elapsed.TotalSeconds, 1),
            ["machine_note"] = "2 shared CPU cores, heavily loaded by other work during the run",
        };
    }

    private static JsonObject Segments(CtrEvaluationSnapshot s) => new()
    {
        ["overall"] = Segment(s.Overall),
        ["sparse"] = Segment(s.Sparse),
        ["active"] = Segment(s.Active),
    };

    private static JsonObject Segment(CtrSegmentMetrics m) => new()
    {
        ["auc"] = Round(m.Auc),
        ["gauc"] = Round(m.Gauc),
        ["impressions"] = m.Samples,
        ["users"] = m.Users,
    };

    private static JsonNode? Round(double v) => double.IsFinite(v) ? Math.Round(v, 5) : null;

    /// <summary>AUC and GAUC lifts over the base row in points, overall and per activity segment.</summary>
    private static JsonObject Lifts(CtrEvaluationSnapshot held, CtrEvaluationSnapshot baseline) => new()
    {
        ["overall_auc"] = Lift(held.Overall.Auc, baseline.Overall.Auc),
        ["overall_gauc"] = Lift(held.Overall.Gauc, baseline.Overall.Gauc),
        ["active_auc"] = Lift(held.Active.Auc, baseline.Active.Auc),
        ["active_gauc"] = Lift(held.Active.Gauc, baseline.Active.Gauc),
        ["sparse_auc"] = Lift(held.Sparse.Auc, baseline.Sparse.Auc),
        ["sparse_gauc"] = Lift(held.Sparse.Gauc, baseline.Sparse.Gauc),
    };

    private static JsonNode? Lift(double value, double baseline) => double.IsFinite(value) && double.IsFinite(baseline) ? Math.Round((value - baseline) * 100, 3) : null;

    private static string Table(List<(string Name, CtrEvaluationSnapshot Prequential, CtrEvaluationSnapshot HeldOut, double Seconds)> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new System.Text.StringBuilder();
        text.AppendLine("== CTR ablation on Online Retail (held out; AUC / GAUC; lift over base in points)");
        text.AppendLine($"{"pathways",-22} {"AUC",8} {"GAUC",8} {"sparse AUC",11} {"sparse GAUC",12} {"active AUC",11} {"active GAUC",12} {"ΔGAUC",8}");
        var b = rows[0].HeldOut;
        foreach (var (name, _, h, _) in rows)
        {
            text.AppendLine(string.Create(inv,
                $"{name,-22} {h.Overall.Auc,8:F4} {h.Overall.Gauc,8:F4} {h.Sparse.Auc,11:F4} {h.Sparse.Gauc,12:F4} {h.Active.Auc,11:F4} {h.Active.Gauc,12:F4} {(h.Overall.Gauc - b.Overall.Gauc) * 100,8:+0.00;-0.00}"));
        }
        return text.ToString();
    }

    /// <summary>Table 3's rows, then (to the right, as separate lines) Table 6's base and GBR rows.</summary>
    private static void WritePng(string path, List<(string Name, CtrEvaluationSnapshot Prequential, CtrEvaluationSnapshot HeldOut, double Seconds)> rows,
        List<Table6Row> table6)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var plot = new ScottPlot.Plot();
        var positions = Enumerable.Range(0, rows.Count).Select(i => (double)i).ToArray();
        var sixPositions = Enumerable.Range(0, table6.Count + 1).Select(i => rows.Count + 1.0 + i).ToArray();
        var sixSnapshots = table6.Count == 0 ? [] : new[] { rows[0].HeldOut }.Concat(table6.Select(r => r.HeldOut)).ToArray();
        foreach (var (label, pick) in new (string, Func<CtrEvaluationSnapshot, double>)[]
        {
            ("AUC overall", s => s.Overall.Auc), ("GAUC overall", s => s.Overall.Gauc),
            ("GAUC sparse users", s => s.Sparse.Gauc), ("GAUC active users", s => s.Active.Gauc),
        })
        {
            var scatter = plot.Add.Scatter(positions, rows.Select(r => pick(r.HeldOut)).ToArray());
            scatter.LegendText = label;
            scatter.LineWidth = 2;
            scatter.MarkerSize = 7;
            if (sixSnapshots.Length == 0) continue;
            var six = plot.Add.Scatter(sixPositions, sixSnapshots.Select(pick).ToArray());
            six.Color = scatter.Color;
            six.LineWidth = 2;
            six.LinePattern = ScottPlot.LinePattern.Dashed;
            six.MarkerSize = 7;
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int i = 0; i < rows.Count; i++) ticks.AddMajor(i, rows[i].Name);
        if (table6.Count > 0)
        {
            ticks.AddMajor(sixPositions[0], "T6 base");
            for (int i = 0; i < table6.Count; i++) ticks.AddMajor(sixPositions[i + 1], "T6 " + table6[i].Name);
        }
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.YLabel("held-out AUC / GAUC");
        plot.Title(table6.Count > 0
            ? "CTR on Online Retail: pathways (paper Table 3, solid) and the GBR-extended sequence (Table 6, dashed)"
            : "CTR pathways on Online Retail (paper Table 3 style)");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 1000, 560);
    }

    private static void Set(CtrModelOptions o, bool retrieval, bool compression, bool sid)
    {
        o.UseBase = true;
        o.UseRetrieval = retrieval;
        o.UseCompression = compression;
        o.UseSid = sid;
    }

    private static uint Fnv(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash ^= c;
            hash *= 16777619;
        }
        return hash;
    }

    private static string Utc(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("u", CultureInfo.InvariantCulture);
}
