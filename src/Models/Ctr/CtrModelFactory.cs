using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Models.Ctr;

/// <summary>
/// A small <see cref="CtrModel"/> and a synthetic world for it: items belong to topics (their knowledge vectors sit
/// near the topic's centre, their semantic id starts with the topic), each user mostly clicks one topic, and a
/// candidate is clicked when it is of the user's topic (10 % label noise). Only the sequence reveals the topic.
/// </summary>
public sealed class CtrModelFactory : ITrainableModelFactory
{
    public const int SmallDim = 16;
    private const int Topics = 4;
    private const int ItemsPerTopic = 8;
    private const int WorldSeed = 20_251_202;

    public Type ModelType => typeof(CtrModel);

    /// <summary>The small shape with every pathway on; <see cref="CreateSmall(Device, int, Action{CtrModelOptions})"/> switches them.</summary>
    public static CtrModelOptions SmallOptions() => new()
    {
        ItemVectorDim = SmallDim,
        HiddenDim = 16,
        Heads = 2,
        RetrievalTopK = 4,
        InterestAnchors = 4,
        AttentionHiddenDim = 16,
        SidLevels = 2,
        SidCodebookSize = ItemsPerTopic,
        HeadHiddenDims = [32],
        MaxHistory = 12,
        Device = "cpu",
    };

    public ITrainableModel CreateSmall(Device device, int seed) => CreateSmall(device, seed, _ => { });

    public static CtrModel CreateSmall(Device device, int seed, Action<CtrModelOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Determinism.Seed(seed);
        var options = SmallOptions();
        configure(options);
        return new CtrModel(options, device);
    }

    public Interaction CreateSyntheticBatch(Device device, Random random, int batchSize) =>
        CtrBatchBuilder.Build(SyntheticExamples(random, batchSize), SmallOptions(), device);

    /// <summary>Labeled examples of the synthetic world; the same item is the same float[] across calls.</summary>
    public static IReadOnlyList<CtrExample> SyntheticExamples(Random random, int count)
    {
        ArgumentNullException.ThrowIfNull(random);
        var world = World.Instance;
        var examples = new List<CtrExample>(count);
        for (int i = 0; i < count; i++)
        {
            int topic = random.Next(Topics);
            int length = random.Next(0, 10);
            var history = new List<float[]>(length);
            var sids = new List<int[]?>(length);
            for (int j = 0; j < length; j++)
            {
                int itemTopic = random.NextDouble() < 0.85 ? topic : random.Next(Topics);
                int item = itemTopic * ItemsPerTopic + random.Next(ItemsPerTopic);
                history.Add(world.Vectors[item]);
                sids.Add(world.SemanticIds[item]);
            }
            int candidate = random.Next(Topics * ItemsPerTopic);
            bool relevant = candidate / ItemsPerTopic == topic && length > 0;
            float label = (random.NextDouble() < 0.1 ? !relevant : relevant) ? 1f : 0f;
            var user = new CtrUserFeatures($"u{i}", history, sids, null, length);
            examples.Add(new CtrExample(user, new CtrCandidate(
                $"i{candidate}", world.Vectors[candidate], world.SemanticIds[candidate],
                CtrBuckets.CategoryBucket($"topic{candidate / ItemsPerTopic}"), CtrBuckets.PriceBucket(1 + candidate % 5), random.Next(50)), label));
        }
        return examples;
    }

    private sealed class World
    {
        public static readonly World Instance = new();

        private World()
        {
            var random = new Random(WorldSeed);
            var centres = Enumerable.Range(0, Topics).Select(_ => RandomVector(random, 1.0)).ToArray();
            Vectors = new float[Topics * ItemsPerTopic][];
            SemanticIds = new int[Topics * ItemsPerTopic][];
            for (int item = 0; item < Vectors.Length; item++)
            {
                var noise = RandomVector(random, 0.3);
                Vectors[item] = centres[item / ItemsPerTopic].Zip(noise, (c, n) => c + n).ToArray();
                SemanticIds[item] = [item / ItemsPerTopic, item % ItemsPerTopic];
            }
        }

        public float[][] Vectors { get; }

        public int[][] SemanticIds { get; }

        private static float[] RandomVector(Random random, double scale) =>
            Enumerable.Range(0, SmallDim).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
    }
}
