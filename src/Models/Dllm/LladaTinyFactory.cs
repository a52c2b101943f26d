using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Models.Dllm;

/// <summary>
/// Small <see cref="LladaTiny"/> and ring-walk sequences for it: items are random unit vectors on a ring and
/// every sequence walks the ring forwards, so a masked item is fixed by its neighbours.
/// </summary>
public sealed class LladaTinyFactory : ITrainableModelFactory
{
    private const int SmallItemVectorDim = 8;
    private const int SmallRingSize = 8;
    private const int SmallLength = 12;
    private const int RingSeed = 20_251_107;

    public Type ModelType => typeof(LladaTiny);

    public ITrainableModel CreateSmall(Device device, int seed)
    {
        Determinism.Seed(seed);
        return new LladaTiny(new LladaTinyOptions
        {
            Layers = 1,
            ModelDim = 16,
            Heads = 2,
            MaxLength = SmallLength,
            ItemVectorDim = SmallItemVectorDim,
            Dropout = 0,
            Temperature = 0.1,
            WarmupSteps = 0,
            TotalSteps = 100,
        }, device);
    }

    public Interaction CreateSyntheticBatch(Device device, Random random, int batchSize) =>
        RingWalkBatch(device, random, batchSize, SmallRingSize, SmallItemVectorDim, SmallLength,
            labeledPerSequence: 3, unlabeledPerSequence: 1, ringSeed: RingSeed);

    /// <summary>
    /// <paramref name="batchSize"/> sequences of <paramref name="length"/> positions, each starting at a random ring
    /// item and stepping forwards. The last 0–2 positions of a sequence may be padding; per sequence,
    /// <paramref name="labeledPerSequence"/> distinct positions are labeled fills (target: the ring item there) and
    /// <paramref name="unlabeledPerSequence"/> others are unlabeled gaps (no truth given). The ring itself depends
    /// only on <paramref name="ringSeed"/>, so every batch shares it; <paramref name="random"/> draws the walks.
    /// </summary>
    public static Interaction RingWalkBatch(
        Device device, Random random, int batchSize, int ringSize, int itemVectorDim, int length,
        int labeledPerSequence, int unlabeledPerSequence, int ringSeed)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (batchSize <= 0 || ringSize <= 1 || itemVectorDim <= 0)
            throw new ArgumentException("Batch size, ring size (> 1) and item width must be positive.");
        if (labeledPerSequence < 1 || unlabeledPerSequence < 0 || labeledPerSequence + unlabeledPerSequence > length - 2)
            throw new ArgumentException("At least one labeled position, and at least three real positions besides the gaps, are needed.");

        var ring = RingItems(ringSize, itemVectorDim, ringSeed);
        var vectors = new float[batchSize * length * itemVectorDim];
        var kinds = new long[batchSize * length];
        for (int row = 0; row < batchSize; row++)
        {
            int realLength = length - random.Next(0, 3);
            realLength = Math.Max(realLength, labeledPerSequence + unlabeledPerSequence + 2);
            int start = random.Next(ringSize);
            var gaps = Enumerable.Range(0, realLength).OrderBy(_ => random.Next()).Take(labeledPerSequence + unlabeledPerSequence).ToArray();
            for (int position = 0; position < length; position++)
            {
                int flat = row * length + position;
                if (position >= realLength) { kinds[flat] = (long)PositionKind.Padding; continue; }
                int gap = Array.IndexOf(gaps, position);
                kinds[flat] = (long)(gap < 0 ? PositionKind.Observed : gap < labeledPerSequence ? PositionKind.LabeledFill : PositionKind.UnlabeledFill);
                if (gap >= labeledPerSequence) continue; // an unlabeled gap carries no item
                ring[(start + position) % ringSize].CopyTo(vectors, flat * itemVectorDim);
            }
        }
        return new Interaction()
            .Add(LladaTiny.ItemVectorsField, tensor(vectors, new long[] { batchSize, length, itemVectorDim }, device: device))
            .Add(LladaTiny.PositionKindsField, tensor(kinds, new long[] { batchSize, length }, device: device));
    }

    /// <summary>Random unit vectors, one per ring slot, from a generator of their own.</summary>
    public static float[][] RingItems(int ringSize, int itemVectorDim, int ringSeed)
    {
        var source = new Random(ringSeed);
        return Enumerable.Range(0, ringSize).Select(_ =>
        {
            var vector = Enumerable.Range(0, itemVectorDim).Select(_ => (float)Gaussian(source)).ToArray();
            float norm = MathF.Sqrt(vector.Sum(v => v * v));
            return vector.Select(v => v / norm).ToArray();
        }).ToArray();
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
