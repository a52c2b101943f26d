using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Models.SemanticIds;

/// <summary>Small RQ-VAE and clustered synthetic item vectors for it.</summary>
public sealed class RqVaeFactory : ITrainableModelFactory
{
    private const int SmallInputDim = 16;
    private const int Clusters = 8;

    public Type ModelType => typeof(RqVae);

    public ITrainableModel CreateSmall(Device device, int seed) => new RqVae(SmallInputDim, new RqVaeOptions
    {
        LatentDim = 8,
        Levels = 2,
        CodebookSize = 16,
        DecoderHiddenDim = 32,
        Seed = seed,
    }, device);

    public Interaction CreateSyntheticBatch(Device device, Random random, int batchSize)
    {
        // Fixed centres, so every batch shares the same structure; the caller's generator only draws the noise.
        var centreSource = new Random(20_240_601);
        var centres = Enumerable.Range(0, Clusters)
            .Select(_ => Enumerable.Range(0, SmallInputDim).Select(_ => (float)(centreSource.NextDouble() * 2 - 1)).ToArray())
            .ToArray();
        var vectors = Enumerable.Range(0, batchSize).Select(_ =>
        {
            var centre = centres[random.Next(Clusters)];
            return centre.Select(value => value + (float)((random.NextDouble() - 0.5) * 0.1)).ToArray();
        }).ToArray();
        return new Interaction().Add(RqVae.VectorField, ItemVectorTensors.ToTensor(vectors, SmallInputDim, device));
    }
}
