using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using ReaSeq.Host;
using ReaSeq.Ingestors.Replay.OnlineRetail;
using ReaSeq.Processors.Knowledge.Encoders;

namespace ReaSeq.Tools.Eval;

/// <summary>
/// `reaseq-tools eval representations`: the paper's Table 1 (HR@k, §4.1.1) on Online Retail for an ID-only co-occurrence
/// baseline, MiniLM of the raw title, and the knowledge vectors of §2.1.2, from a time-ordered split.
/// </summary>
public static class EvalCommand
{
    public static readonly IReadOnlyList<int> Ks = [10, 50, 100, 200, 500];
    public static readonly IReadOnlyList<string> AllMethods = ["cooc", "title", "knowledge"];

    public static Command Create()
    {
        var path = CliParsers.ExistingFile("--path", "Online Retail CSV (default: online_retail.csv.gz in ../shared/data/online-retail or REASEQ_ONLINE_RETAIL_DIR)");
        var sample = new Option<bool>("--sample") { Description = "Use the 2,000-row sample of the shared folder instead of the whole file" };
        var splitDate = new Option<DateTimeOffset?>("--split-date")
        {
            Description = "Split the purchases at this UTC date (default: the last --test-fraction of the time span)",
            HelpName = "YYYY-MM-DD",
            CustomParser = r =>
            {
                var text = r.Tokens[0].Value;
                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)) return at;
                r.AddError($"--split-date must be a date like 2011-09-01; got '{text}'");
                return null;
            },
        };
        var testFraction = CliParsers.Double("--test-fraction", "Share of the time span after the split", 0.2, 0.01, 0.99);
        var history = CliParsers.Int("--history", "Most recent purchases per user before the split (the sequence)", 50, 1);
        var targets = CliParsers.Int("--targets", "Targets per user after the split", 10, 1);
        var limitUsers = CliParsers.Int("--limit-users", "Evaluate at most this many users (0: all)", 0, 0);
        var methods = new Option<string[]>("--methods")
        {
            Description = $"Comma-separated methods: {string.Join(", ", AllMethods)}",
            HelpName = "METHOD,...",
            DefaultValueFactory = _ => [.. AllMethods],
            CustomParser = r =>
            {
                var list = r.Tokens[0].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (list.Length == 0 || list.FirstOrDefault(m => !AllMethods.Contains(m)) is not null)
                    r.AddError($"--methods takes a list of {string.Join(", ", AllMethods)}; got '{r.Tokens[0].Value}'");
                return list;
            },
        };
        var output = new Option<string>("--out") { Description = "Folder of representations.json/.png", HelpName = "DIR", DefaultValueFactory = _ => Path.Combine("eval", "results") };
        var cache = new Option<string>("--cache") { Description = "Folder of cached item vectors", HelpName = "DIR", DefaultValueFactory = _ => Path.Combine(".state", "eval") };
        var representations = new Command("representations", "HR@k and macro recall of item representations on Online Retail (paper Table 1): cooc, title, knowledge")
        {
            path, sample, splitDate, testFraction, history, targets, limitUsers, methods, output, cache,
        };
        representations.SetAction((r, ct) => ExecuteAsync(
            ResolvePath(r.GetValue(path), r.GetValue(sample)),
            new EvalSplitOptions
            {
                SplitAt = r.GetValue(splitDate),
                TestFraction = r.GetValue(testFraction),
                HistoryLength = r.GetValue(history),
                MaxTargets = r.GetValue(targets),
                LimitUsers = r.GetValue(limitUsers),
            },
            r.GetValue(methods)!, r.GetValue(output)!, r.GetValue(cache)!, ct));
        return new Command("eval", "Evaluations") { representations };
    }

    public static async Task<int> ExecuteAsync(string path, EvalSplitOptions split, IReadOnlyList<string> methods, string output, string cacheDirectory, CancellationToken ct)
    {
        await RunAsync(path, split, methods, output, new VectorCache(cacheDirectory), ct);
        return 0;
    }

    public static async Task<JsonObject> RunAsync(string path, EvalSplitOptions splitOptions, IReadOnlyList<string> methods, string outputDirectory,
                                                  VectorCache cache, CancellationToken ct)
    {
        Console.Error.WriteLine($"eval: reading {path}…");
        var data = EvalDataset.Load(new OnlineRetailSource(path, new OnlineRetailOptions { NegativesPerPurchase = 0 }), ct);
        var split = EvalSplit.Build(data, splitOptions);
        int pairs = split.Users.Sum(u => u.Targets.Count);
        Console.Error.WriteLine($"eval: {data.Items.Count:N0} items, {data.Interactions.Count:N0} purchases, split at {Utc(split.SplitTsMs)}, " +
                                $"{split.Training.Count:N0} training purchases, {split.Users.Count:N0} users ({split.EligibleUsers:N0} eligible), {pairs:N0} (user, target) pairs");

        var ids = data.Items.Select(i => i.ItemId).ToList();
        var results = new List<HitRateResult>();
        var methodJson = new JsonArray();
        using var encoder = methods.Any(m => m != "cooc") ? new MiniLmEncoder() : null;
        foreach (var method in methods)
        {
            ct.ThrowIfCancellationRequested();
            var (vectors, description, extra) = await ComputeAsync(method, data, split, encoder, cache, ct);
            var result = HitRateMetric.Evaluate(new ItemVectorTable(method, ids, vectors), split.Users, Ks, ct);
            results.Add(result);
            methodJson.Add(EvalReport.MethodJson(result, description, extra));
            Console.Error.WriteLine($"eval {method}: macro recall {EvalReport.Percent(result.MacroRecall)}%");
        }

        var table = EvalReport.Table(results);
        Console.WriteLine($"== Representation quality (HR@k, %, §4.1.1) on {Path.GetFileName(path)}: {split.Users.Count:N0} users, {pairs:N0} pairs");
        Console.Write(table);

        var document = new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["file"] = Path.GetFileName(path),
                ["attribution"] = "Online Retail by Daqing Chen, UCI ML Repository, CC BY 4.0",
                ["items"] = data.Items.Count,
                ["purchases"] = data.Interactions.Count,
                ["split_utc"] = Utc(split.SplitTsMs),
                ["training_purchases"] = split.Training.Count,
                ["eligible_users"] = split.EligibleUsers,
                ["users"] = split.Users.Count,
                ["pairs"] = pairs,
            },
            ["config"] = new JsonObject
            {
                ["split_date"] = splitOptions.SplitAt?.ToString("u", CultureInfo.InvariantCulture),
                ["test_fraction_of_time_span"] = splitOptions.SplitAt is null ? splitOptions.TestFraction : null,
                ["history_length"] = splitOptions.HistoryLength,
                ["max_targets"] = splitOptions.MaxTargets,
                ["limit_users"] = splitOptions.LimitUsers,
                ["k"] = new JsonArray(Ks.Select(k => (JsonNode)k).ToArray()),
                ["methods"] = new JsonArray(methods.Select(m => (JsonNode)m).ToArray()),
            },
            ["definitions"] = new JsonObject
            {
                ["sequence"] = "the user's most recent purchases (BUY clicks) before the split, up to history_length",
                ["targets"] = "the first max_targets distinct items the user bought after the split that are not in the sequence",
                ["hit_rate"] = "per sequence item, its k nearest pool items by cosine (itself excluded); union over the sequence; HR@k = (user, target) pairs whose target is in the union / all pairs",
                ["macro_recall"] = "per user, fraction of their targets hit at k, averaged over users (macro_recall_percent_at_k), then averaged over the k values (macro_recall_percent)",
                ["paper_note"] = "The paper does not define Macro Recall; its Table 1 value is not the mean of its HR columns (CNC: mean 14.50 vs 10.79), so this definition is ours.",
            },
            ["methods"] = methodJson,
        };
        if (results.FirstOrDefault(r => r.Method == "knowledge") is { } knowledge && results.FirstOrDefault(r => r.Method == "title") is { } title)
            document["knowledge_beats_title"] = knowledge.MacroRecall > title.MacroRecall;

        var jsonPath = Path.Combine(outputDirectory, "representations.json");
        var pngPath = Path.Combine(outputDirectory, "representations.png");
        await EvalReport.WriteJsonAsync(jsonPath, document, ct);
        EvalReport.WritePng(pngPath, results, $"HR@k on Online Retail ({split.Users.Count:N0} users, split {Utc(split.SplitTsMs)[..10]})");
        Console.Error.WriteLine($"eval: wrote {jsonPath} and {pngPath}");
        return document;
    }

    private static async Task<(IReadOnlyList<float[]?> Vectors, string Description, JsonObject? Extra)> ComputeAsync(
        string method, EvalDataset data, EvalSplit split, MiniLmEncoder? encoder, VectorCache cache, CancellationToken ct)
    {
        var itemKey = data.Items.SelectMany(i => new[] { i.ItemId, i.Title, i.Category ?? "" });
        switch (method)
        {
            case "cooc":
                {
                    var options = new CooccurrenceOptions();
                    var vectors = CooccurrenceVectors.Compute(data.Items, split.Training, options);
                    return (vectors, $"ID-only: PPMI of invoice co-occurrence before the split, rank-{options.Dimension} SVD", null);
                }
            case "title":
                {
                    var key = VectorCache.Key(["title", encoder!.ModelName], itemKey);
                    var vectors = cache.TryLoad(method, key, data.Items.Count);
                    if (vectors is null) cache.Save(method, key, vectors = TitleVectors.Compute(encoder, data.Items, ct));
                    else Console.Error.WriteLine($"eval title: vectors from {cache.PathFor(method, key)}");
                    return (vectors, $"{encoder.ModelName} of the raw title", null);
                }
            case "knowledge":
                {
                    // The backend's name and prompt version are part of the key: new prompts mean new knowledge.
                    var backend = KnowledgeVectors.Backend(encoder!);
                    var key = VectorCache.Key(["knowledge", encoder!.ModelName, backend.Name, backend.PromptVersion], itemKey);
                    var vectors = cache.TryLoad(method, key, data.Items.Count);
                    if (vectors is null) cache.Save(method, key, vectors = (await KnowledgeVectors.ComputeAsync(encoder, data.Items, ct)).Vectors);
                    else Console.Error.WriteLine($"eval knowledge: vectors from {cache.PathFor(method, key)}");
                    var extra = new JsonObject
                    {
                        ["backend"] = backend.Name,
                        ["prompt_version"] = backend.PromptVersion,
                        ["items_without_grounded_knowledge"] = vectors.Count(v => v is null),
                    };
                    return (vectors, $"{backend.Name} layer 1-3 knowledge, demand + attribute perspectives encoded by {encoder.ModelName} and added (§2.1.2)", extra);
                }
            default:
                throw new ArgumentException($"Unknown method '{method}'");
        }
    }

    private static string ResolvePath(FileInfo? explicitPath, bool sample)
    {
        if (explicitPath is not null) return explicitPath.FullName;
        var directory = OnlineRetailData.FindDirectory()
            ?? throw new UserException($"Online Retail data not found: pass --path or set {OnlineRetailData.EnvironmentVariable}");
        var file = Path.Combine(directory, sample ? OnlineRetailData.SampleFileName : OnlineRetailData.FullFileName);
        return File.Exists(file) ? file : throw new UserException($"{file} does not exist: pass --path or set {OnlineRetailData.EnvironmentVariable}");
    }

    private static string Utc(long tsMs) => DateTimeOffset.FromUnixTimeMilliseconds(tsMs).ToString("u", CultureInfo.InvariantCulture);
}
