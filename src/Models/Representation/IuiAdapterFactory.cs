using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Models.Representation;

/// <summary>
/// Small <see cref="IuiAdapter"/> and pairs for it: random base vectors of items that are bought together in fixed
/// couples (item 2c with 2c + 1), which the base vectors know nothing about.
/// </summary>
public sealed class IuiAdapterFactory : ITrainableModelFactory
{
    private const int SmallDim = 16;
    private const int SmallItems = 32;
    private const int VectorSeed = 20_251_201;

    public Type ModelType => typeof(IuiAdapter);

    public ITrainableModel CreateSmall(Device device, int seed)
    {
        Determinism.Seed(seed);
        return new IuiAdapter(SmallDim, new IuiAdapterOptions { HiddenDim = 32, Temperature = 0.2, BatchSize = 64, Seed = seed }, device);
    }

    public Interaction CreateSyntheticBatch(Device device, Random random, int batchSize)
    {
        var vectorSource = new Random(VectorSeed);
        var vectors = Enumerable.Range(0, SmallItems)
            .Select(_ => Enumerable.Range(0, SmallDim).Select(_ => (float)(vectorSource.NextDouble() * 2 - 1)).ToArray())
            .ToArray();
        var anchors = new long[batchSize];
        var positives = new long[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            int couple = random.Next(SmallItems / 2);
            bool flip = random.Next(2) == 0;
            anchors[i] = 2 * couple + (flip ? 1 : 0);
            positives[i] = 2 * couple + (flip ? 0 : 1);
        }
        float[] Gather(long[] items) => items.SelectMany(i => vectors[i]).ToArray();
        return new Interaction()
            .Add(IuiAdapter.AnchorField, tensor(Gather(anchors), [batchSize, SmallDim], device: device))
            .Add(IuiAdapter.PositiveField, tensor(Gather(positives), [batchSize, SmallDim], device: device))
            .Add(IuiAdapter.AnchorItemField, tensor(anchors, device: device))
            .Add(IuiAdapter.PositiveItemField, tensor(positives, device: device));
    }
}
