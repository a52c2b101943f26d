using static TorchSharp.torch;

namespace ReaSeq.Models.Training;

/// <summary>
/// Builds one kind of <see cref="ITrainableModel"/> in a small configuration, with a matching synthetic batch.
/// Every model ships one, so that a new model is trained end to end by the shared smoke test the moment it exists.
/// </summary>
public interface ITrainableModelFactory
{
    /// <summary>The concrete model class this factory builds.</summary>
    Type ModelType { get; }

    /// <summary>A small instance, quick to train for a few steps.</summary>
    ITrainableModel CreateSmall(Device device, int seed);

    /// <summary>A batch the small instance can train on, with some learnable structure in it.</summary>
    Interaction CreateSyntheticBatch(Device device, Random random, int batchSize);
}
