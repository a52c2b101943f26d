using System.Diagnostics;
using System.Globalization;
using ReaSeq.Models.Dllm;
using ReaSeq.Models.Training;

namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>Training one Table 5 row's tiny LLaDA and scoring it with the §4.2.1 in-batch metrics.</summary>
public static class GbrModelRun
{
    /// <summary>
    /// Trains on <paramref name="windows"/> for <paramref name="epochs"/> passes in shuffled batches of
    /// <paramref name="batchSize"/> (the last, smaller batch of a pass is dropped), with dynamic masking (§3.2.2) and the
    /// warm-up + cosine schedule stretched over exactly the steps taken. Prints progress about every 15 s.
    /// <paramref name="logPrior"/>, per item row, turns on Eq. 7's sampling-bias correction (see <see cref="GbrBatch.Create"/>).
    /// </summary>
    public static (LladaTiny Model, double FinalLoss, int Steps, double Seconds) Train(
        IReadOnlyList<GbrWindow> windows, float[][] vectors, LladaTinyOptions options, int epochs, int batchSize, int seed, string label, CancellationToken ct,
        float[]? logPrior = null)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(options);
        int perEpoch = windows.Count / batchSize;
        if (perEpoch == 0) throw new ArgumentException($"{label}: {windows.Count} training windows do not fill one batch of {batchSize}.");
        int steps = perEpoch * epochs;
        var settings = options.Clone();
        settings.TotalSteps = steps;
        settings.WarmupSteps = Math.Min(settings.WarmupSteps, steps);
        var random = Determinism.Seed(seed);
        var model = LladaTiny.Create(settings);
        using var trainer = new LladaTrainer(model);
        model.SetTraining(true);
        var clock = Stopwatch.StartNew();
        var lastPrint = TimeSpan.Zero;
        double recentLoss = double.NaN;
        var order = Enumerable.Range(0, windows.Count).ToArray();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(order);
            for (int s = 0; s < perEpoch; s++)
            {
                ct.ThrowIfCancellationRequested();
                var chosen = order.Skip(s * batchSize).Take(batchSize).Select(i => windows[i]).ToList();
                using var batch = GbrBatch.Create(chosen, vectors, withEvalMask: false, model.Device, logPrior);
                float loss = trainer.Step(batch);
                recentLoss = double.IsNaN(recentLoss) ? loss : 0.9 * recentLoss + 0.1 * loss;
                if (clock.Elapsed - lastPrint > TimeSpan.FromSeconds(15) || trainer.StepsTaken == steps)
                {
                    lastPrint = clock.Elapsed;
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{label}: step {trainer.StepsTaken}/{steps} (epoch {epoch + 1}/{epochs}), loss {recentLoss:F4}, lr {trainer.NextLearningRate:G3}, {trainer.StepsTaken / clock.Elapsed.TotalSeconds:F2} steps/s"));
                }
            }
        }
        model.SetTraining(false);
        return (model, recentLoss, steps, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// IB-PPL and IB-ACC (§4.2.1) over <paramref name="windows"/> in their given order, in full batches of
    /// <paramref name="batchSize"/> (a smaller last batch would have fewer negatives, so it is left out). The [MASK]
    /// positions are the windows' fixed evaluation masks; the negatives' draw is seeded per batch. Each batch's
    /// per-sample means are combined weighted by their sample counts, so the result is the mean over all samples.
    /// </summary>
    public static LladaEvaluation Evaluate(LladaTiny model, IReadOnlyList<GbrWindow> windows, float[][] vectors, int batchSize, int seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(windows);
        var mask = new Accumulator();
        var fill = new Accumulator();
        for (int b = 0; b + batchSize <= windows.Count; b += batchSize)
        {
            Determinism.Seed(seed + b / batchSize);
            using var batch = GbrBatch.Create(windows.Skip(b).Take(batchSize).ToList(), vectors, withEvalMask: true, model.Device);
            var result = model.Evaluate(batch);
            mask.Add(result.Mask);
            fill.Add(result.Fill);
        }
        return new LladaEvaluation(mask.Result(), fill.Result());
    }

    private sealed class Accumulator
    {
        private double _perplexity, _accuracy;
        private int _samples, _tokens;

        public void Add(InBatchMetricResult result)
        {
            if (result.Samples == 0) return;
            _perplexity += result.Perplexity * result.Samples;
            _accuracy += result.Accuracy * result.Samples;
            _samples += result.Samples;
            _tokens += result.Tokens;
        }

        public InBatchMetricResult Result() =>
            _samples == 0 ? InBatchMetricResult.Empty : new InBatchMetricResult(_perplexity / _samples, _accuracy / _samples, _samples, _tokens);
    }
}
