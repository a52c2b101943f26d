using TorchSharp;

namespace ReaSeq.Models.Dllm;

/// <summary>
/// Learning rate for step n: linear warm-up to the peak, then cosine annealing to a floor at the last step
/// (the "linear warmup and cosine annealing" schedulers of paper §4.2.1). Pure arithmetic, so it is testable
/// without an optimiser.
/// </summary>
public sealed class WarmupCosineSchedule
{
    public WarmupCosineSchedule(double peakLearningRate, int warmupSteps, int totalSteps, double finalLearningRate = 0)
    {
        if (!(peakLearningRate > 0) || double.IsInfinity(peakLearningRate))
            throw new ArgumentOutOfRangeException(nameof(peakLearningRate), peakLearningRate, "Peak learning rate must be finite and > 0.");
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "Warm-up steps must be 0 or more.");
        if (totalSteps < warmupSteps || totalSteps <= 0)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "Total steps must be > 0 and at least the warm-up steps.");
        if (!(finalLearningRate >= 0) || finalLearningRate > peakLearningRate)
            throw new ArgumentOutOfRangeException(nameof(finalLearningRate), finalLearningRate, "Final learning rate must lie in [0, peak].");
        PeakLearningRate = peakLearningRate;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
        FinalLearningRate = finalLearningRate;
    }

    public double PeakLearningRate { get; }
    public int WarmupSteps { get; }
    public int TotalSteps { get; }
    public double FinalLearningRate { get; }

    /// <summary>
    /// Rate for the optimiser step with 0-based index <paramref name="step"/>. Warm-up step k uses peak·(k+1)/warm-up,
    /// so the very first step already moves; from the end of warm-up the rate follows half a cosine down to the
    /// floor at <see cref="TotalSteps"/> and stays there.
    /// </summary>
    public double LearningRateAt(int step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "Step must be 0 or more.");
        if (step < WarmupSteps) return PeakLearningRate * (step + 1) / WarmupSteps;
        int annealingSteps = TotalSteps - WarmupSteps;
        double progress = annealingSteps == 0 ? 1 : Math.Min(1.0, (step - WarmupSteps) / (double)annealingSteps);
        return FinalLearningRate + (PeakLearningRate - FinalLearningRate) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>Sets every parameter group of <paramref name="optimizer"/> to the rate for <paramref name="step"/>.</summary>
    public void Apply(torch.optim.Optimizer optimizer, int step)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        double rate = LearningRateAt(step);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }
}
