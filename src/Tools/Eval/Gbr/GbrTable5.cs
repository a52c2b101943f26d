using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ReaSeq.Ingestors.Replay.OnlineRetail;
using ReaSeq.Models.Dllm;
using ReaSeq.Processors.Knowledge.Encoders;
using ReaSeq.Processors.Sequence;

namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>
/// Paper Table 5 (§4.2.2) on Online Retail: the three gap-location variants with the Eq. 7 loss and the two point-wise
/// losses on CD, each trained on the training users' windows and scored with IB-PPL / IB-ACC (§4.2.1) on the held-out
/// users' windows, all with one batch size and the same [MASK] positions.
/// </summary>
public static class GbrTable5
{
    public static readonly IReadOnlyList<(string Name, DetectionVariant Variant, LladaLoss Loss)> Rows =
    [
        ("GBR-T-0", DetectionVariant.Temporal, LladaLoss.SampledSoftmax),
        ("GBR-C-0", DetectionVariant.Category, LladaLoss.SampledSoftmax),
        ("GBR-TC-0", DetectionVariant.TemporalOrCategory, LladaLoss.SampledSoftmax),
        ("GBR-C-1", DetectionVariant.Category, LladaLoss.Cosine),
        ("GBR-C-2", DetectionVariant.Category, LladaLoss.Euclidean),
    ];

    public static async Task<JsonObject> RunAsync(string path, GbrOptions options, string outputDirectory, VectorCache cache, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Console.Error.WriteLine($"eval gbr: reading {path}…");
        var data = EvalDataset.Load(new OnlineRetailSource(path, new OnlineRetailOptions { NegativesPerPurchase = 0 }), ct);
        var categories = data.Items.ToDictionary(i => i.ItemId, i => i.Category, StringComparer.Ordinal);
        var clicks = data.Interactions
            .Select((x, i) => new SequenceClick(x.UserId, "or-" + i.ToString(CultureInfo.InvariantCulture), x.ItemId, x.TsMs, categories.GetValueOrDefault(x.ItemId)))
            .ToList();
        IReadOnlyList<float[]?> vectors;
        string vectorsDescription;
        using (var encoder = new MiniLmEncoder())
            (vectors, vectorsDescription) = await EvalCommand.TextVectorsAsync(options.ItemVectors, data, encoder, cache, ct);

        Console.Error.WriteLine($"eval gbr: detecting gaps and labels in {clicks.Count:N0} purchases…");
        var corpus = GbrCorpus.Build(data.Items, vectors, clicks, options, ct);
        var stats = corpus.Detection.Statistics;
        var first = Rows[0].Variant;
        var train = corpus.Windows(first, heldOut: false, options.WindowEvents, options.MaxTrainWindows, options.Seed);
        var evaluation = corpus.Windows(first, heldOut: true, options.WindowEvents, options.MaxEvalWindows, options.Seed);
        Console.Error.WriteLine($"eval gbr: {corpus.Detection.Users.Count:N0} users ({corpus.HeldOut.Count:N0} held out), " +
                                $"{stats.LabeledPositions:N0} labeled positions ({Percent(stats.LabeledPositions, stats.LabelCandidates)}% of candidates), " +
                                $"{train.Count:N0} training and {evaluation.Count:N0} evaluation windows of {options.WindowEvents} events");

        var rows = new JsonArray();
        var results = new List<(string Name, double FillRatio, LladaEvaluation Result)>();
        foreach (var (name, variant, loss) in Rows)
        {
            ct.ThrowIfCancellationRequested();
            var trainWindows = corpus.Windows(variant, heldOut: false, options.WindowEvents, options.MaxTrainWindows, options.Seed);
            var evalWindows = corpus.Windows(variant, heldOut: true, options.WindowEvents, options.MaxEvalWindows, options.Seed);
            var model = ModelOptions(options, corpus.Table[0].Length, loss);
            var (trained, finalLoss, steps, seconds) = GbrModelRun.Train(trainWindows, corpus.Table, model, options.Epochs, options.BatchSize, options.Seed, $"eval gbr {name}", ct);
            LladaEvaluation result;
            using (trained) result = GbrModelRun.Evaluate(trained, evalWindows, corpus.Table, options.BatchSize, options.Seed);
            double fillRatio = stats.For(variant).FillRatio;
            results.Add((name, fillRatio, result));
            var paper = GbrPaperRow.Table5.First(p => p.Name == name);
            Console.Error.WriteLine($"eval gbr {name}: [MASK] IB-PPL {result.Mask.Perplexity:F2} IB-ACC {Pct(result.Mask.Accuracy)}%, " +
                                    $"[FILL] IB-PPL {result.Fill.Perplexity:F2} IB-ACC {Pct(result.Fill.Accuracy)}%");
            rows.Add(new JsonObject
            {
                ["model"] = name,
                ["blbl"] = SequenceCommandName(variant),
                ["bibr_loss"] = LossName(loss),
                ["fill_ratio_percent"] = Round(fillRatio * 100),
                ["fill_ratio_in_eval_windows_percent"] = Round(100.0 * evalWindows.Sum(w => w.Fills) / Math.Max(1, evalWindows.Sum(w => w.Observed))),
                ["mask"] = MetricJson(result.Mask),
                ["fill"] = MetricJson(result.Fill),
                ["training"] = new JsonObject
                {
                    ["windows"] = trainWindows.Count,
                    ["steps"] = steps,
                    ["seconds"] = Math.Round(seconds, 1),
                    ["final_loss_ema"] = Round(finalLoss),
                },
                ["paper"] = new JsonObject
                {
                    ["fill_ratio_percent"] = paper.FillRatioPercent,
                    ["mask_ib_ppl"] = paper.MaskPerplexity,
                    ["mask_ib_acc_percent"] = paper.MaskAccuracyPercent,
                    ["fill_ib_ppl"] = paper.FillPerplexity,
                    ["fill_ib_acc_percent"] = paper.FillAccuracyPercent,
                },
            });
        }

        Console.WriteLine($"== GBR Table 5 on {Path.GetFileName(path)}: batch {options.BatchSize}, windows of {options.WindowEvents} events, " +
                          $"{evaluation.Count:N0} held-out windows (ours | paper)");
        Console.Write(Table(results));

        var document = new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["file"] = Path.GetFileName(path),
                ["attribution"] = "Online Retail by Daqing Chen, UCI ML Repository, CC BY 4.0",
                ["items"] = data.Items.Count,
                ["purchases"] = clicks.Count,
                ["users"] = corpus.Detection.Users.Count,
                ["held_out_users"] = corpus.HeldOut.Count,
                ["labeled_positions"] = stats.LabeledPositions,
                ["label_candidates"] = stats.LabelCandidates,
                ["training_windows_available"] = corpus.Windows(first, heldOut: false, options.WindowEvents, 0, options.Seed).Count,
                ["evaluation_windows"] = evaluation.Count,
                ["temporal_thresholds_ms"] = new JsonArray(stats.Thresholds.Select(t => (JsonNode)t.ThresholdMs).ToArray()),
            },
            ["config"] = Config(options),
            ["item_vectors"] = vectorsDescription,
            ["definitions"] = Definitions(),
            ["rows"] = rows,
        };
        var jsonPath = Path.Combine(outputDirectory, "gbr.json");
        var pngPath = Path.Combine(outputDirectory, "gbr.png");
        await EvalReport.WriteJsonAsync(jsonPath, document, ct);
        var names = results.Select(r => r.Name).ToList();
        GbrPlot.Bars(pngPath, $"Table 5 on Online Retail: IB-ACC on held-out users (batch {options.BatchSize}), ours beside the paper", "IB-ACC (%)", names,
        [
            ("[MASK] ours", results.Select(r => r.Result.Mask.Accuracy * 100).ToList()),
            ("[MASK] paper", names.Select(n => GbrPaperRow.Table5.First(p => p.Name == n).MaskAccuracyPercent).ToList()),
            ("[FILL] ours", results.Select(r => r.Result.Fill.Accuracy * 100).ToList()),
            ("[FILL] paper", names.Select(n => GbrPaperRow.Table5.First(p => p.Name == n).FillAccuracyPercent).ToList()),
        ]);
        Console.Error.WriteLine($"eval gbr: wrote {jsonPath} and {pngPath}");
        return document;
    }

    internal static LladaTinyOptions ModelOptions(GbrOptions options, int itemVectorDim, LladaLoss loss) => new()
    {
        ItemVectorDim = itemVectorDim,
        // One [FILL] per transition at most: a window of E events has at most 2E − 1 positions.
        MaxLength = 2 * options.WindowEvents,
        WarmupSteps = options.WarmupSteps,
        LearningRate = options.LearningRate,
        Loss = loss,
    };

    internal static JsonObject Config(GbrOptions options) => new()
    {
        ["window_events"] = options.WindowEvents,
        ["batch_size"] = options.BatchSize,
        ["epochs"] = options.Epochs,
        ["max_train_windows"] = options.MaxTrainWindows,
        ["max_eval_windows"] = options.MaxEvalWindows,
        ["hold_out"] = options.HoldOut,
        ["warmup_steps"] = options.WarmupSteps,
        ["learning_rate"] = options.LearningRate,
        ["threads"] = options.Threads,
        ["seed"] = options.Seed,
        ["label_threshold_nats"] = options.LabelThreshold,
        ["item_vectors"] = options.ItemVectors,
        ["recovery_item_vectors"] = options.RecoveryItemVectors,
        ["synthetic_users"] = options.SyntheticUsers,
        ["synthetic_items"] = options.SyntheticItems,
        ["synthetic_days"] = options.SyntheticDays,
        ["recovery_variant"] = SequenceCommandName(options.RecoveryVariant),
        ["recovery_epochs"] = options.RecoveryEpochs,
        ["recovery_max_train_windows"] = options.RecoveryMaxTrainWindows,
        ["recovery_batch_size"] = options.RecoveryBatchSize,
        ["recovery_learning_rate"] = options.RecoveryLearningRate,
        ["recovery_mask_observed"] = options.RecoveryMaskObserved,
        ["recovery_every_gap"] = options.RecoveryEveryGap,
        ["recovery_logq"] = options.RecoveryLogPrior,
        ["model"] = "tiny LLaDA: 4 layers, d 128, 8 heads, learnable positions, temperature 0.07, Adam, linear warm-up + cosine annealing (paper §4.2.1)",
    };

    internal static JsonObject MetricJson(InBatchMetricResult metric) => new()
    {
        ["ib_ppl"] = Round(metric.Perplexity),
        ["ib_acc_percent"] = Round(metric.Accuracy * 100),
        ["samples"] = metric.Samples,
        ["tokens"] = metric.Tokens,
    };

    private static JsonObject Definitions() => new()
    {
        ["fill_ratio"] = "gaps of the variant / accepted purchases, over every user (the detector's statistic, as `reaseq sequence stats` prints it)",
        ["gaps"] = "TD: time between two baskets (lines of one invoice are one basket) above T, the p95 of the gaps between baskets; CD: the keyword-derived primary categories of consecutive purchases differ; TDCD: either",
        ["labels"] = "self-supervised labeled positions: Δ > θ under a Swing co-occurrence model pre-trained on the training users' purchases (§3.2.1); the same positions for every row",
        ["split"] = "users held out by a stable hash of their id: neither the LLaDA nor the collaborative model sees their purchases; metrics are on their windows only",
        ["windows"] = "consecutive purchases of one user cut every window_events purchases; a [FILL] is inserted before each purchase that a gap leads into (not before a window's first); windows without a labeled position are left out",
        ["mask"] = "evaluation [MASK]s are drawn per window from a seeded generator (t ~ U(0,1), each labeled position masked with probability t, at least one) and are identical for every row",
        ["ib_metrics"] = "paper §4.2.1 Eq. 8-9 over full batches of batch_size windows: one negative drawn from every other window of the batch, cosine / 0.07; a [FILL]'s positive is the closest [MASK] ground truth of its window; per-window means averaged over windows",
    };

    private static string Table(IReadOnlyList<(string Name, double FillRatio, LladaEvaluation Result)> results)
    {
        var text = new StringBuilder();
        text.AppendLine("Model      FILL %          [MASK] IB-PPL     [MASK] IB-ACC %    [FILL] IB-PPL     [FILL] IB-ACC %");
        foreach (var (name, fill, result) in results)
        {
            var p = GbrPaperRow.Table5.First(r => r.Name == name);
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-9}  {fill * 100,6:F2} | {p.FillRatioPercent,5:F2}  {result.Mask.Perplexity,7:F2} | {p.MaskPerplexity,6:F2}  {result.Mask.Accuracy * 100,7:F2} | {p.MaskAccuracyPercent,5:F2}  {result.Fill.Perplexity,7:F2} | {p.FillPerplexity,5:F2}  {result.Fill.Accuracy * 100,7:F2} | {p.FillAccuracyPercent,5:F2}"));
        }
        return text.ToString();
    }

    internal static string SequenceCommandName(DetectionVariant variant) => variant switch
    {
        DetectionVariant.Temporal => "TD",
        DetectionVariant.Category => "CD",
        DetectionVariant.TemporalOrCategory => "TDCD",
        _ => "TD∩CD+RANK",
    };

    private static string LossName(LladaLoss loss) => loss switch
    {
        LladaLoss.SampledSoftmax => "Eq. 7 (in-batch sampled softmax, cosine / 0.07)",
        LladaLoss.Cosine => "point-wise cosine distance",
        _ => "point-wise Euclidean distance",
    };

    /// <summary>A number rounded for the report; null when it is not finite (JSON has no NaN).</summary>
    internal static JsonNode? Round(double value) => double.IsFinite(value) ? JsonValue.Create(Math.Round(value, 4)) : null;

    private static string Pct(double fraction) => (fraction * 100).ToString("F2", CultureInfo.InvariantCulture);

    private static string Percent(long part, long whole) => whole == 0 ? "-" : (100.0 * part / whole).ToString("F2", CultureInfo.InvariantCulture);
}
