using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReaSeq.Models.Training;

/// <summary>
/// The contract every trainable model honours (RecBole's AbstractRecommender in spirit): it turns a batch into a
/// scalar loss for training and into predictions for inference. Training loops, checkpoints and smoke tests
/// only ever talk to this interface.
/// </summary>
public interface ITrainableModel : IDisposable
{
    /// <summary>Stable model name, e.g. "rqvae".</summary>
    string Name { get; }

    Device Device { get; }

    IEnumerable<Parameter> TrainableParameters();

    /// <summary>Switches between training behaviour (dropout, codebook upkeep) and inference behaviour.</summary>
    void SetTraining(bool training);

    /// <summary>Scalar loss for <paramref name="batch"/>; gradients flow to <see cref="TrainableParameters"/>.</summary>
    Tensor CalculateLoss(Interaction batch);

    /// <summary>The model's output for <paramref name="batch"/> (scores, logits or codes; each model documents it).</summary>
    Tensor Predict(Interaction batch);

    /// <summary>Called after each optimiser step, for upkeep that must not happen inside the autograd graph.</summary>
    void OnOptimizerStepCompleted() { }
}
