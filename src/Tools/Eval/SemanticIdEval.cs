using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ReaSeq.Ingestors.Replay.OnlineRetail;
using ReaSeq.Models.Representation;
using ReaSeq.Models.SemanticIds;
using ReaSeq.Processors.Knowledge.Encoders;
using ReaSeq.Processors.Knowledge.Streaming;

namespace ReaSeq.Tools.Eval;

/// <summary>
/// `reaseq-tools eval semantic-ids`: trains the knowledge role's RQ-VAE (paper Appendix C) with the role's default
/// settings on the Online Retail item vectors of the representation evaluation (same cache) and reports how well the
/// ids identify items: the collision rate of the RQ-VAE codes alone and with the final de-duplication level, codebook
/// usage per level, dead codes re-seeded, and the floor set by items whose vectors are identical.
/// </summary>
public static class SemanticIdEval
{
    public static readonly IReadOnlyList<string> Sources = ["knowledge", "title", "knowledge+iui", "title+iui"];

    public static Command Create(Option<FileInfo?> path, Option<bool> sample, Option<string> output, Option<string> cache)
    {
        var vectors = new Option<string>("--vectors")
        {
            Description = $"Item vectors to tokenize: {string.Join(", ", Sources)}",
            DefaultValueFactory = _ => "knowledge",
        };
        vectors.AcceptOnlyFromAmong([.. Sources]);
        var command = new Command("semantic-ids", "Collision rate and codebook usage of the RQ-VAE semantic ids (Appendix C) on Online Retail item vectors")
        {
            path, sample, vectors, output, cache,
        };
        command.SetAction(async (r, ct) =>
        {
            await RunAsync(EvalCommand.ResolvePath(r.GetValue(path), r.GetValue(sample)), r.GetValue(vectors)!, new SemanticIdTrainingOptions(),
                r.GetValue(output)!, new VectorCache(r.GetValue(cache)!), ct);
            return 0;
        });
        return command;
    }

    public static async Task<JsonObject> RunAsync(string path, string source, SemanticIdTrainingOptions training, string outputDirectory,
                                                  VectorCache cache, CancellationToken ct)
    {
        Console.Error.WriteLine($"eval semantic-ids: reading {path}…");
        var data = EvalDataset.Load(new OnlineRetailSource(path, new OnlineRetailOptions { NegativesPerPurchase = 0 }), ct);
        var split = EvalSplit.Build(data, new EvalSplitOptions());
        using var encoder = new MiniLmEncoder();
        string baseMethod = source.Replace("+iui", "", StringComparison.Ordinal);
        var (baseVectors, description, _) = await EvalCommand.ComputeAsync(baseMethod, data, split, encoder, cache, ct);
        IReadOnlyList<float[]?> itemVectors = baseVectors;
        if (source.EndsWith("+iui", StringComparison.Ordinal))
        {
            (itemVectors, _) = IuiVectors.Compute(baseVectors, data, split, new IuiAdapterOptions(), source);
            description += ", through the IUI adapter";
        }
        var present = itemVectors.Where(v => v is not null).Select(v => v!).ToList();
        int identicalVectorItems = present.GroupBy(v => Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan())))
            .Where(g => g.Count() > 1).Sum(g => g.Count());

        var options = training.ToRqVaeOptions();
        Console.Error.WriteLine($"eval semantic-ids: training {options.Levels} × {options.CodebookSize} RQ-VAE on {present.Count:N0} {source} vectors ({options.Epochs} epochs)…");
        var epochs = new List<RqVaeEpochReport>();
        var clock = Stopwatch.StartNew();
        using var model = new RqVaeTrainer(options).Train(present, e =>
        {
            epochs.Add(e);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"eval semantic-ids: epoch {e.Epoch}/{e.Epochs} loss {e.Loss:F4}, usage {string.Join(" / ", e.CodebookUsagePerLevel.Select(u => u.ToString("P0", CultureInfo.InvariantCulture)))}, {e.DeadCodesReset} dead codes re-seeded"));
        }, ct);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var report = model.Evaluate(present);
        var prefixes = model.AssignIds(present);
        var ranks = SemanticIdDeduplication.Ranks(prefixes);
        var full = SemanticIdDeduplication.Append(prefixes, ranks);
        double dedupCollision = SemanticIdDeduplication.CollisionRate(full);

        Console.WriteLine($"== Semantic ids (Appendix C) on {Path.GetFileName(path)}: {present.Count:N0} items with {source} vectors");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RQ-VAE {options.Levels} x {options.CodebookSize}: collision rate {report.CollisionRate:P2} ({report.DistinctIds:N0} distinct ids); " +
            $"with the de-duplication level {dedupCollision:P2}; identical vectors {identicalVectorItems / (double)present.Count:P2}"));
        Console.WriteLine("codebook usage per level: " + string.Join(" / ", report.CodebookUsagePerLevel.Select(u => u.ToString("P1", CultureInfo.InvariantCulture))));

        var document = new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["file"] = Path.GetFileName(path),
                ["attribution"] = "Online Retail by Daqing Chen, UCI ML Repository, CC BY 4.0",
                ["items"] = data.Items.Count,
                ["items_with_vectors"] = present.Count,
                ["vectors"] = source,
                ["vectors_description"] = description,
            },
            ["config"] = new JsonObject
            {
                ["levels"] = options.Levels,
                ["codebook_size"] = options.CodebookSize,
                ["latent_dim"] = options.LatentDim,
                ["epochs"] = options.Epochs,
                ["batch_size"] = options.BatchSize,
                ["learning_rate"] = options.LearningRate,
                ["kmeans_init"] = "k-means++ seeding, Lloyd iterations on up to kmeans_init_samples items",
                ["kmeans_iterations"] = options.KMeansIterations,
                ["kmeans_init_samples"] = options.KMeansInitSamples,
                ["min_training_items"] = options.MinTrainingItems,
                ["dead_code_reset_epochs"] = options.DeadCodeResetEpochs,
                ["seed"] = options.Seed,
            },
            ["definitions"] = new JsonObject
            {
                ["collision_rate"] = "fraction of items whose full id is shared with at least one other item",
                ["codebook_usage"] = "per level, fraction of the codes at least one item's id uses",
                ["dedup_level"] = "TIGER's final level: the item's rank among the items sharing its RQ-VAE codes (0 when alone), in item id order here, in arrival order in the knowledge role",
                ["identical_vector_items"] = "items whose vector equals another item's exactly: no tokenizer of the vectors alone can tell them apart",
            },
            ["results"] = new JsonObject
            {
                ["rqvae_collision_rate"] = Math.Round(report.CollisionRate, 6),
                ["rqvae_distinct_ids"] = report.DistinctIds,
                ["collision_rate_with_dedup_level"] = Math.Round(dedupCollision, 6),
                ["items_with_nonzero_dedup_code"] = ranks.Count(r => r > 0),
                ["dedup_max_code"] = ranks.Max(),
                ["identical_vector_items"] = identicalVectorItems,
                ["identical_vector_rate"] = Math.Round(identicalVectorItems / (double)present.Count, 6),
                ["codebook_usage_per_level"] = new JsonArray(report.CodebookUsagePerLevel.Select(u => (JsonNode)Math.Round(u, 4)).ToArray()),
                ["dead_codes_reset"] = epochs.Sum(e => e.DeadCodesReset),
                ["reconstruction_mse"] = Math.Round(report.ReconstructionMse, 8),
                ["train_s"] = Math.Round(trainSeconds, 1),
                ["goal_collision_rate_at_most"] = 0.01,
                ["goal_met_by_rqvae_alone"] = report.CollisionRate <= 0.01,
                ["goal_met_with_dedup_level"] = dedupCollision <= 0.01,
            },
            ["epochs"] = new JsonArray(epochs.Select(e => (JsonNode)new JsonObject
            {
                ["epoch"] = e.Epoch,
                ["loss"] = Math.Round(e.Loss, 5),
                ["training_usage_per_level"] = new JsonArray(e.CodebookUsagePerLevel.Select(u => (JsonNode)Math.Round(u, 4)).ToArray()),
                ["dead_codes_reset"] = e.DeadCodesReset,
            }).ToArray()),
        };
        var jsonPath = Path.Combine(outputDirectory, "semantic-ids.json");
        await EvalReport.WriteJsonAsync(jsonPath, document, ct);
        Console.Error.WriteLine($"eval semantic-ids: wrote {jsonPath}");
        return document;
    }
}
