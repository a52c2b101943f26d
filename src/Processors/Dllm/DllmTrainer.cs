using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;
using ReaSeq.Models.Dllm;
using ReaSeq.Models.Training;

namespace ReaSeq.Processors.Dllm;

/// <summary>
/// Trains versions of the tiny LLaDA from the kept labeled windows (paper §3.2.2, §4.2.1) and records them in
/// dllm_models. One trainer per deployment: a session-level PostgreSQL advisory lock makes one instance the leader
/// for the duration of a run; the others skip. A version is due when none exists and at least
/// <see cref="DllmTrainerOptions.MinTrainingWindows"/> usable windows are kept, or when the newest version is older
/// than <see cref="DllmTrainerOptions.RetrainIntervalMs"/> and windows arrived since. Users are split by a hash of
/// their id; the held-out users' windows give the §4.2.1 metrics of each version (one batch of
/// <see cref="DllmTrainerOptions.BatchSize"/> sequences, with a seeded mask draw).
/// </summary>
public sealed class DllmTrainer(DllmStore store, ItemVectors vectors, LladaTinyOptions modelOptions, DllmTrainerOptions options,
    DllmOptions dllm, DllmMetrics metrics, ILogger<DllmTrainer> logger)
{
    /// <summary>Trains and records a version when one is due, or now when <paramref name="force"/>d (given enough windows); returns it, or null.</summary>
    public async Task<DllmModelVersion?> TrainIfDueAsync(bool force, CancellationToken ct)
    {
        await using var conn = await store.Database.OpenConnectionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("select pg_try_advisory_lock(hashtext('reaseq.dllm.trainer.' || $1))", conn))
        {
            lockCmd.Parameters.AddWithValue(store.Deployment);
            if (await lockCmd.ExecuteScalarAsync(ct) is not true) return null;
        }
        try
        {
            return await TrainLockedAsync(force, ct);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock(hashtext('reaseq.dllm.trainer.' || $1))", conn);
            unlock.Parameters.AddWithValue(store.Deployment);
            await unlock.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    private async Task<DllmModelVersion?> TrainLockedAsync(bool force, CancellationToken ct)
    {
        var latest = await store.LatestAsync(ct);
        metrics.TrainingWindows(await store.CountWindowsAsync(ct));
        if (latest is not null)
        {
            metrics.Seen(latest);
            var age = DateTime.UtcNow - latest.CreatedAt.ToUniversalTime();
            if (!force && (age.TotalMilliseconds < options.RetrainIntervalMs || await store.CountWindowsSinceAsync(latest.CreatedAt, ct) == 0)) return null;
        }
        var windows = await store.ReadWindowsAsync(options.MaxTrainingWindows, ct);
        if (windows.Count < options.MinTrainingWindows) return null;
        var known = await vectors.GetAsync(windows.SelectMany(w => w.Items), ct);
        var usable = windows.Where(w => w.Labeled.Count > 0 && w.TokenCount <= modelOptions.MaxLength && w.Items.All(known.ContainsKey)).ToList();
        if (usable.Count < options.MinTrainingWindows)
        {
            logger.LogInformation("dllm: {Usable} of {Kept} kept windows have vectors for all their items; training waits for {Min}",
                usable.Count, windows.Count, options.MinTrainingWindows);
            return null;
        }
        var heldOut = usable.Where(w => IsHeldOut(w.UserId, options.HeldOutPercent)).ToList();
        var training = usable.Where(w => !IsHeldOut(w.UserId, options.HeldOutPercent)).ToList();
        if (training.Count == 0) (training, heldOut) = (heldOut, []);

        byte[]? previous = latest is not null && options.WarmStart ? await store.LoadCheckpointAsync(latest.Version, ct) : null;
        var clock = Stopwatch.StartNew();
        var (checkpoint, results) = await Task.Run(() => Train(training, heldOut, known, previous, ct), ct);
        clock.Stop();
        results["train_seconds"] = clock.Elapsed.TotalSeconds;
        var number = await store.AddVersionAsync(training.Count, options.Steps, results, checkpoint, ct);
        var version = await store.LatestAsync(ct) ?? throw new InvalidOperationException("the version just recorded is missing");
        metrics.Trained(version, clock.Elapsed);
        logger.LogInformation(
            "dllm: trained {Version} on {Windows} windows in {Seconds:F1} s; held-out IB-ACC [MASK] {MaskAcc} [FILL] {FillAcc}, IB-PPL [MASK] {MaskPpl} [FILL] {FillPpl}",
            DllmModelVersion.Label(number), training.Count, clock.Elapsed.TotalSeconds, Text(version.Metric("mask_ib_acc"), "F3"), Text(version.Metric("fill_ib_acc"), "F3"),
            Text(version.Metric("mask_ib_ppl"), "F2"), Text(version.Metric("fill_ib_ppl"), "F2"));
        return version;
    }

    /// <summary>
    /// A metric as text for the log: a metric can be non-finite (IB-PPL exponentiates the held-out loss; a `make run` logged
    /// +∞), and the JSON console formatter throws on a non-finite number, which reported a stored version as a failed run.
    /// </summary>
    private static string Text(double value, string format) => value.ToString(format, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The training run itself (CPU or GPU bound); returns the checkpoint and the held-out metrics.</summary>
    private (byte[] Checkpoint, Dictionary<string, double> Metrics) Train(List<GapWindow> training, List<GapWindow> heldOut,
        Dictionary<string, float[]> known, byte[]? previous, CancellationToken ct)
    {
        var random = Determinism.Seed(options.Seed);
        var device = TorchDevice.Resolve(dllm.Device);
        using var model = Build(previous);
        using var trainer = new LladaTrainer(model);
        int dim = modelOptions.ItemVectorDim;
        var logPrior = options.SamplingBiasCorrection ? TargetLogPrior(training) : null;
        float loss = float.NaN;
        for (int step = 0; step < options.Steps; step++)
        {
            ct.ThrowIfCancellationRequested();
            var sample = Enumerable.Range(0, Math.Min(options.BatchSize, training.Count)).Select(_ => training[random.Next(training.Count)]).ToList();
            int length = DllmBatch.Bucket(sample.Max(w => w.TokenCount), modelOptions.MaxLength);
            var (batch, _) = DllmBatch.Build(sample, id => known[id], dim, sample.Count, length, device, logPrior);
            using (batch) loss = trainer.Step(batch);
        }
        var results = new Dictionary<string, double>
        {
            ["final_loss"] = loss,
            ["heldout_sequences"] = 0,
            ["sampling_bias_correction"] = options.SamplingBiasCorrection ? 1 : 0,
        };
        if (heldOut.Count >= 2)
        {
            var evaluation = heldOut.Take(options.BatchSize).ToList();
            int length = DllmBatch.Bucket(evaluation.Max(w => w.TokenCount), modelOptions.MaxLength);
            var (batch, _) = DllmBatch.Build(evaluation, id => known[id], dim, evaluation.Count, length, device);
            using (batch)
            {
                Determinism.Seed(options.Seed + 1); // the same mask draw for every version
                var scores = model.Evaluate(batch);
                results["heldout_sequences"] = evaluation.Count;
                results["mask_ib_acc"] = scores.Mask.Accuracy;
                results["mask_ib_ppl"] = scores.Mask.Perplexity;
                results["mask_tokens"] = scores.Mask.Tokens;
                results["fill_ib_acc"] = scores.Fill.Accuracy;
                results["fill_ib_ppl"] = scores.Fill.Perplexity;
                results["fill_tokens"] = scores.Fill.Tokens;
            }
        }
        using var stream = new MemoryStream();
        model.Save(stream);
        return (stream.ToArray(), results);
    }

    /// <summary>
    /// log q per item for Eq. 7's sampling-bias correction: its share of the labeled targets of <paramref name="training"/>
    /// (what a step's in-batch candidates are drawn from), add-one smoothed over the items the windows hold, so an item that is
    /// never a target still has a finite prior.
    /// </summary>
    public static Func<string, float> TargetLogPrior(IReadOnlyList<GapWindow> training)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var window in training)
        {
            foreach (var item in window.Items) counts.TryAdd(item, 0);
            foreach (var position in window.Labeled) counts[window.Items[position]]++;
        }
        var (shares, unseen) = SamplingBias.SmoothedLogShares([.. counts.Values]);
        var logPrior = counts.Keys.Zip(shares).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
        return item => logPrior.GetValueOrDefault(item, unseen);
    }

    /// <summary>The previous version when it has the configured shape (warm start), else a fresh model.</summary>
    private LladaTiny Build(byte[]? previous)
    {
        var shape = ModelOptions(modelOptions, dllm, options.Steps);
        if (previous is not null)
        {
            using var source = LladaTiny.Load(new MemoryStream(previous, writable: false), dllm.Device);
            var old = source.Options;
            if (old.Layers == shape.Layers && old.ModelDim == shape.ModelDim && old.Heads == shape.Heads && old.MaxLength == shape.MaxLength &&
                old.ItemVectorDim == shape.ItemVectorDim && old.EffectiveFeedForwardDim == shape.EffectiveFeedForwardDim)
            {
                var warm = new LladaTiny(shape, TorchDevice.Resolve(dllm.Device));
                var weights = source.named_parameters().ToDictionary(p => p.name, p => p.parameter);
                using (TorchSharp.torch.no_grad())
                {
                    foreach (var (name, parameter) in warm.named_parameters()) parameter.copy_(weights[name]);
                }
                return warm;
            }
            logger.LogInformation("dllm: the newest version's shape differs from Dllm:Model; training from scratch");
        }
        return new LladaTiny(shape, TorchDevice.Resolve(dllm.Device));
    }

    /// <summary>
    /// The model settings a version is trained with: Dllm:Model (paper §4.2.1 defaults), on the role's device, with
    /// the warm-up/cosine schedule spread over the steps of one version (warm-up at most a tenth of them).
    /// </summary>
    public static LladaTinyOptions ModelOptions(LladaTinyOptions configured, DllmOptions dllm, int steps)
    {
        var shape = configured.Clone();
        shape.Device = dllm.Device;
        shape.TotalSteps = steps;
        shape.WarmupSteps = Math.Min(configured.WarmupSteps, steps / 10);
        return shape;
    }

    /// <summary>Whether a user belongs to the held-out share (FNV-1a of the id, stable across processes and runs).</summary>
    public static bool IsHeldOut(string userId, int percent)
    {
        uint hash = 2_166_136_261;
        foreach (var b in Encoding.UTF8.GetBytes(userId)) hash = (hash ^ b) * 16_777_619;
        return hash % 100 < (uint)percent;
    }
}
