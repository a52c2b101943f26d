using System.Diagnostics;
using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Models.Representation;

/// <summary>One epoch of IUI training: mean InfoNCE loss, pairs seen and their rate.</summary>
public sealed record IuiEpochReport(int Epoch, double Loss, int Pairs, double Seconds)
{
    public double PairsPerSecond => Pairs / Math.Max(Seconds, 1e-9);
}

/// <summary>
/// Trains an <see cref="IuiAdapter"/> over frozen base vectors with Adam: each epoch draws
/// <see cref="IuiAdapterOptions.PairsPerEpoch"/> of the pairs (all when 0) in a seeded random order. Pairs whose
/// items have no base vector are skipped. Runs repeat exactly on CPU for the same seed.
/// </summary>
public sealed class IuiTrainer(IuiAdapterOptions options)
{
    private readonly IuiAdapterOptions _options = Checked(options);

    public IuiModel Train(IReadOnlyList<float[]?> baseVectors, IuiPairSet pairs, Action<IuiEpochReport>? onEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(baseVectors);
        ArgumentNullException.ThrowIfNull(pairs);
        int dim = baseVectors.FirstOrDefault(v => v is not null)?.Length ?? throw new ArgumentException("No item has a base vector.", nameof(baseVectors));
        var usable = Enumerable.Range(0, pairs.Count)
            .Where(p => pairs.Anchors[p] < baseVectors.Count && pairs.Positives[p] < baseVectors.Count
                        && baseVectors[pairs.Anchors[p]] is not null && baseVectors[pairs.Positives[p]] is not null)
            .ToArray();
        if (usable.Length < 2) throw new ArgumentException($"Only {usable.Length} pairs have base vectors for both items; at least 2 are needed.", nameof(pairs));

        var random = Determinism.Seed(_options.Seed);
        var device = TorchDevice.Resolve(_options.Device);
        var network = new IuiAdapter(dim, _options, device);
        try
        {
            var zero = new float[dim];
            using var table = ToTensor(baseVectors.Select(v => v ?? zero).ToList(), dim, device);
            using var optimizer = optim.AdamW(network.TrainableParameters(), _options.LearningRate, weight_decay: _options.WeightDecay);
            int perEpoch = _options.PairsPerEpoch == 0 ? usable.Length : Math.Min(_options.PairsPerEpoch, usable.Length);
            for (int epoch = 1; epoch <= _options.Epochs; epoch++)
            {
                var clock = Stopwatch.StartNew();
                Shuffle(usable, random);
                double lossSum = 0;
                int steps = 0, seen = 0;
                for (int start = 0; start + 1 < perEpoch; start += _options.BatchSize)
                {
                    int count = Math.Min(_options.BatchSize, perEpoch - start);
                    if (count < 2) break;
                    var anchors = new long[count];
                    var positives = new long[count];
                    for (int i = 0; i < count; i++)
                    {
                        anchors[i] = pairs.Anchors[usable[start + i]];
                        positives[i] = pairs.Positives[usable[start + i]];
                    }
                    using var scope = NewDisposeScope();
                    var anchorIds = tensor(anchors, device: device);
                    var positiveIds = tensor(positives, device: device);
                    using var batch = new Interaction()
                        .Add(IuiAdapter.AnchorField, table.index_select(0, anchorIds))
                        .Add(IuiAdapter.PositiveField, table.index_select(0, positiveIds))
                        .Add(IuiAdapter.AnchorItemField, anchorIds)
                        .Add(IuiAdapter.PositiveItemField, positiveIds);
                    lossSum += TrainingLoop.Step(network, optimizer, batch);
                    steps++;
                    seen += count;
                }
                onEpoch?.Invoke(new IuiEpochReport(epoch, lossSum / Math.Max(steps, 1), seen, clock.Elapsed.TotalSeconds));
            }
            network.SetTraining(false);
            return new IuiModel(network);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    internal static Tensor ToTensor(IReadOnlyList<float[]> vectors, int dim, Device device)
    {
        var flat = new float[checked(vectors.Count * dim)];
        for (int i = 0; i < vectors.Count; i++)
        {
            if (vectors[i].Length != dim) throw new ArgumentException($"Vector {i} has {vectors[i].Length} values, expected {dim}.", nameof(vectors));
            vectors[i].CopyTo(flat, i * dim);
        }
        return tensor(flat, [vectors.Count, dim], device: device);
    }

    private static void Shuffle(int[] values, Random random)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    private static IuiAdapterOptions Checked(IuiAdapterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.Clone();
    }
}
