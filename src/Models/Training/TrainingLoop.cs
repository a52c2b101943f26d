using static TorchSharp.torch;

namespace ReaSeq.Models.Training;

/// <summary>The one optimisation step every model shares.</summary>
public static class TrainingLoop
{
    /// <summary>Runs forward, backward and one optimiser step; returns the loss before the step.</summary>
    public static float Step(ITrainableModel model, optim.Optimizer optimizer, Interaction batch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(batch);
        float value;
        using (NewDisposeScope())
        {
            model.SetTraining(true);
            optimizer.zero_grad();
            var loss = model.CalculateLoss(batch);
            if (loss.numel() != 1)
                throw new InvalidOperationException($"{model.Name} returned a loss with {loss.numel()} elements; it must be a scalar.");
            loss.backward();
            optimizer.step();
            value = loss.item<float>();
        }
        model.OnOptimizerStepCompleted();
        return value;
    }
}
