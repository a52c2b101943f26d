using System.CommandLine;
using ReaSeq.Host;
using ReaSeq.Models.Training;
using ReaSeq.Processors.Sequence;

namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>
/// `reaseq-tools eval gbr`: paper Table 5 on Online Retail (eval/results/gbr.json, gbr.png) and beyond-log recovery on
/// the synthetic world's withheld events (eval/results/gbr-recovery.json, gbr-recovery.png).
/// </summary>
public static class GbrCommand
{
    public static Command Create()
    {
        var d = new GbrOptions();
        var path = CliParsers.ExistingFile("--path", "Online Retail CSV (default: online_retail.csv.gz in ../shared/data/online-retail or REASEQ_ONLINE_RETAIL_DIR)");
        var sample = new Option<bool>("--sample") { Description = "Use the 2,000-row sample of the shared folder instead of the whole file" };
        var parts = new Option<string>("--only")
        {
            Description = "table5, recovery or all",
            HelpName = "PART",
            DefaultValueFactory = _ => "all",
        };
        parts.AcceptOnlyFromAmong("all", "table5", "recovery");
        var window = CliParsers.Int("--window", "Events per model window (at most twice as many positions with [FILL]s)", d.WindowEvents, 3, 1024);
        var batch = CliParsers.Int("--batch", "Batch size of training and of the in-batch metrics (the same for every row; paper: 3,200)", d.BatchSize, 2);
        var epochs = CliParsers.Int("--epochs", "Training passes per Table 5 row", d.Epochs, 1);
        var maxTrain = CliParsers.Int("--max-train-windows", "Train each model on at most this many windows (a seeded sample; 0: all)", d.MaxTrainWindows, 0);
        var maxEval = CliParsers.Int("--max-eval-windows", "Score at most this many held-out windows (0: all)", d.MaxEvalWindows, 0);
        var holdOut = CliParsers.Double("--hold-out", "Share of users held out from training and evaluated", d.HoldOut, 0.01, 0.99);
        var warmup = CliParsers.Int("--warmup", "Linear warm-up steps before cosine annealing", d.WarmupSteps, 0);
        var learningRate = CliParsers.Double("--lr", "Peak Adam learning rate (paper: 0.0075 at batch 3,200)", d.LearningRate, 1e-6, 1);
        var threads = CliParsers.Int("--threads", "libtorch CPU threads", d.Threads, 1, 256);
        var seed = CliParsers.Int("--seed", "Seed of sampling, masking and initialisation", d.Seed, 0);
        var labelThreshold = CliParsers.Double("--label-threshold", "θ: Δ above it (nats) makes a self-supervised labeled position", d.LabelThreshold, -100, 100);
        var users = CliParsers.Int("--synthetic-users", "Users of the synthetic world (recovery)", d.SyntheticUsers, 10);
        var items = CliParsers.Int("--synthetic-items", "Items of the synthetic world (recovery)", d.SyntheticItems, 32);
        var days = CliParsers.Int("--synthetic-days", "Days of the synthetic world (recovery)", d.SyntheticDays, 1, 3650);
        var variant = new Option<DetectionVariant>("--recovery-variant")
        {
            Description = "Gap variant whose [FILL]s the recovery model is trained and scored with: TD, CD, TDCD or TDCD_RANK",
            HelpName = "VARIANT",
            DefaultValueFactory = _ => d.RecoveryVariant,
            CustomParser = r =>
            {
                if (CliParsers.ParseVariant(r.Tokens[0].Value) is { } v) return v;
                r.AddError($"--recovery-variant must be one of TD, CD, TDCD, TDCD_RANK; got '{r.Tokens[0].Value}'");
                return default;
            },
        };
        var vectors = new Option<string>("--vectors") { Description = "Item vectors of Table 5: knowledge (§2.1.2, cached with eval representations) or title", HelpName = "KIND", DefaultValueFactory = _ => d.ItemVectors };
        vectors.AcceptOnlyFromAmong("knowledge", "title");
        var recoveryVectors = new Option<string>("--recovery-vectors") { Description = "Item vectors of the recovery measurement: title or knowledge", HelpName = "KIND", DefaultValueFactory = _ => d.RecoveryItemVectors };
        recoveryVectors.AcceptOnlyFromAmong("knowledge", "title");
        var recoveryEpochs = CliParsers.Int("--recovery-epochs", "Training passes of the recovery model", d.RecoveryEpochs, 1);
        var recoveryMaxTrain = CliParsers.Int("--recovery-max-train-windows", "Train the recovery model on at most this many windows (a seeded sample; 0: all)", d.RecoveryMaxTrainWindows, 0);
        var recoveryBatch = CliParsers.Int("--recovery-batch", "Batch size of the recovery model's training and in-batch metrics (paper: 3,200)", d.RecoveryBatchSize, 2);
        var recoveryLearningRate = CliParsers.Double("--recovery-lr", "Peak Adam learning rate of the recovery model", d.RecoveryLearningRate, 1e-6, 1);
        var recoveryMaskObserved = new Option<bool>("--recovery-mask-observed")
        {
            Description = "Dynamic masking of the recovery model also draws observed items, over every training window (true or false)",
            DefaultValueFactory = _ => d.RecoveryMaskObserved,
        };
        var recoveryEveryGap = new Option<bool>("--recovery-every-gap")
        {
            Description = "The scored held-out windows overlap by one event so every flagged gap gets a [FILL] with context on both sides (true or false)",
            DefaultValueFactory = _ => d.RecoveryEveryGap,
        };
        var recoveryLogPrior = new Option<bool>("--recovery-logq")
        {
            Description = "The recovery model's Eq. 7 subtracts each in-batch candidate's log share of the training clicks (sampling-bias correction; true or false)",
            DefaultValueFactory = _ => d.RecoveryLogPrior,
        };
        var output = new Option<string>("--out") { Description = "Folder of gbr.json/.png and gbr-recovery.json/.png", HelpName = "DIR", DefaultValueFactory = _ => Path.Combine("eval", "results") };
        var cache = new Option<string>("--cache") { Description = "Folder of cached item vectors (shared with eval representations)", HelpName = "DIR", DefaultValueFactory = _ => Path.Combine(".state", "eval") };
        var command = new Command("gbr", "Generative Behavior Reasoning: paper Table 5 (IB-PPL / IB-ACC on [MASK] and [FILL]) on Online Retail, and recovery of withheld events in the synthetic world")
        {
            path, sample, parts, window, batch, epochs, maxTrain, maxEval, holdOut, warmup, learningRate, threads, seed, labelThreshold,
            vectors, recoveryVectors, users, items, days, variant, recoveryEpochs, recoveryMaxTrain, recoveryBatch, recoveryLearningRate, recoveryMaskObserved, recoveryEveryGap, recoveryLogPrior,
            output, cache,
        };
        command.SetAction(async (r, ct) =>
        {
            var options = new GbrOptions
            {
                WindowEvents = r.GetValue(window),
                BatchSize = r.GetValue(batch),
                Epochs = r.GetValue(epochs),
                MaxTrainWindows = r.GetValue(maxTrain),
                MaxEvalWindows = r.GetValue(maxEval),
                HoldOut = r.GetValue(holdOut),
                WarmupSteps = r.GetValue(warmup),
                LearningRate = r.GetValue(learningRate),
                Threads = r.GetValue(threads),
                Seed = r.GetValue(seed),
                LabelThreshold = r.GetValue(labelThreshold),
                SyntheticUsers = r.GetValue(users),
                SyntheticItems = r.GetValue(items),
                SyntheticDays = r.GetValue(days),
                RecoveryVariant = r.GetValue(variant),
                RecoveryEpochs = r.GetValue(recoveryEpochs),
                RecoveryMaxTrainWindows = r.GetValue(recoveryMaxTrain),
                RecoveryBatchSize = r.GetValue(recoveryBatch),
                RecoveryLearningRate = r.GetValue(recoveryLearningRate),
                RecoveryMaskObserved = r.GetValue(recoveryMaskObserved),
                RecoveryEveryGap = r.GetValue(recoveryEveryGap),
                RecoveryLogPrior = r.GetValue(recoveryLogPrior),
                ItemVectors = r.GetValue(vectors)!,
                RecoveryItemVectors = r.GetValue(recoveryVectors)!,
            };
            var only = r.GetValue(parts)!;
            string? csv = only == "recovery" ? null : EvalCommand.ResolvePath(r.GetValue(path), r.GetValue(sample));
            await RunAsync(csv, options, r.GetValue(output)!, new VectorCache(r.GetValue(cache)!), ct, recovery: only != "table5");
            return 0;
        });
        return command;
    }

    /// <summary>Table 5 when <paramref name="onlineRetailPath"/> is given, then the recovery measurement unless told otherwise.</summary>
    public static async Task RunAsync(string? onlineRetailPath, GbrOptions options, string outputDirectory, VectorCache cache, CancellationToken ct, bool recovery = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UserException(e.Message);
        }
        TorchDevice.SetCpuThreads(options.Threads);
        if (onlineRetailPath is not null) await GbrTable5.RunAsync(onlineRetailPath, options, outputDirectory, cache, ct);
        if (recovery) await GbrRecovery.RunAsync(options, outputDirectory, cache, ct);
    }
}
