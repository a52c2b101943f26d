using ReaSeq.Models.Training;
using TorchSharp;

namespace ReaSeq.Models.Dllm;

/// <summary>
/// Adam with linear warm-up and cosine annealing over <see cref="LladaTinyOptions.TotalSteps"/> (paper §4.2.1),
/// stepping a <see cref="LladaTiny"/> through the shared <see cref="TrainingLoop"/>. Owns the optimiser, not the model.
/// </summary>
public sealed class LladaTrainer : IDisposable
{
    private readonly torch.optim.Optimizer _optimizer;

    public LladaTrainer(LladaTiny model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        var options = model.Options;
        Schedule = new WarmupCosineSchedule(options.LearningRate, options.WarmupSteps, options.TotalSteps);
        _optimizer = torch.optim.Adam(model.TrainableParameters(), options.LearningRate);
    }

    public LladaTiny Model { get; }

    public WarmupCosineSchedule Schedule { get; }

    /// <summary>Optimiser steps taken so far.</summary>
    public int StepsTaken { get; private set; }

    /// <summary>The learning rate the next step will use.</summary>
    public double NextLearningRate => Schedule.LearningRateAt(StepsTaken);

    /// <summary>One step on <paramref name="batch"/> at the scheduled rate; returns the loss before the step.</summary>
    public float Step(Interaction batch)
    {
        Schedule.Apply(_optimizer, StepsTaken);
        float loss = TrainingLoop.Step(Model, _optimizer, batch);
        StepsTaken++;
        return loss;
    }

    public void Dispose() => _optimizer.Dispose();
}
