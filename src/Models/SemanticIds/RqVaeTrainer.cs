using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Models.SemanticIds;

/// <summary>Trains an RQ-VAE tokenizer on item vectors with Adam and mini-batches.</summary>
public sealed class RqVaeTrainer
{
    private readonly RqVaeOptions _options;

    public RqVaeTrainer(RqVaeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
    }

    /// <summary>
    /// Trains for <see cref="RqVaeOptions.Epochs"/> epochs. The codebooks are first seeded by k-means on a random
    /// sample of up to <see cref="RqVaeOptions.KMeansInitSamples"/> items, which must be at least
    /// <see cref="RqVaeOptions.MinTrainingItems"/>. After every epoch, codes unused for
    /// <see cref="RqVaeOptions.DeadCodeResetEpochs"/> epochs are re-seeded. Repeats exactly on CPU for a given seed.
    /// </summary>
    public SemanticIdModel Train(
        IReadOnlyList<float[]> vectors,
        Action<RqVaeEpochReport>? onEpoch = null,
        CancellationToken cancellationToken = default)
    {
        int inputDim = ItemVectorTensors.Dimension(vectors);
        if (vectors.Count < _options.MinTrainingItems)
        {
            throw new ArgumentException(
                $"Training {_options.Levels} × {_options.CodebookSize} codebooks needs at least {_options.MinTrainingItems} item vectors " +
                $"({_options.KMeansMinPointsPerCode} per code for the k-means initialisation); got {vectors.Count}.", nameof(vectors));
        }
        var random = Determinism.Seed(_options.Seed);
        var device = TorchDevice.Resolve(_options.Device);
        var network = new RqVae(inputDim, _options, device);
        try
        {
            using var data = ItemVectorTensors.ToTensor(vectors, inputDim, device);
            int n = vectors.Count;
            using (NewDisposeScope())
            {
                var sample = Permutation(n, random).Take(Math.Min(n, _options.KMeansInitSamples)).ToArray();
                network.InitialiseCodebooks(data.index_select(0, tensor(sample, device: device)));
            }

            using var optimizer = optim.Adam(network.parameters(), _options.LearningRate);
            for (int epoch = 1; epoch <= _options.Epochs; epoch++)
            {
                var report = RunEpoch(network, optimizer, data, random, epoch, cancellationToken);
                onEpoch?.Invoke(report);
            }
            network.SetTraining(false);
            return new SemanticIdModel(network, _options);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    private RqVaeEpochReport RunEpoch(
        RqVae network, optim.Optimizer optimizer, Tensor data, Random random, int epoch, CancellationToken cancellationToken)
    {
        long resetBefore = network.DeadCodesReset;
        double loss = 0, reconstruction = 0, codebook = 0, commitment = 0;
        int batches = 0;
        var used = new bool[network.Levels, network.CodebookSize];
        var order = Permutation((int)data.shape[0], random);
        for (int start = 0; start < order.Length; start += _options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using (NewDisposeScope())
            {
                var rows = order.AsSpan(start, Math.Min(_options.BatchSize, order.Length - start)).ToArray();
                var batch = data.index_select(0, tensor(rows, device: data.device));
                network.SetTraining(true);
                optimizer.zero_grad();
                var output = network.forward(batch);
                output.Loss.backward();
                optimizer.step();

                loss += output.Loss.item<float>();
                reconstruction += output.ReconstructionLoss.item<float>();
                codebook += output.CodebookLoss.item<float>();
                commitment += output.CommitmentLoss.item<float>();
                MarkUsed(used, output.Codes);
                batches++;
            }
        }
        network.SetTraining(false);
        network.OnEpochCompleted(data);
        var usage = Enumerable.Range(0, network.Levels)
            .Select(level => Enumerable.Range(0, network.CodebookSize).Count(code => used[level, code]) / (double)network.CodebookSize)
            .ToArray();
        return new RqVaeEpochReport(epoch, _options.Epochs, loss / batches, reconstruction / batches,
            codebook / batches, commitment / batches, usage, network.DeadCodesReset - resetBefore);
    }

    private static void MarkUsed(bool[,] used, Tensor codes)
    {
        int levels = used.GetLength(0);
        var flat = codes.to(ScalarType.Int32).cpu().data<int>().ToArray();
        for (int i = 0; i < flat.Length; i++) used[i % levels, flat[i]] = true;
    }

    private static long[] Permutation(int n, Random random)
    {
        var order = new long[n];
        for (int i = 0; i < n; i++) order[i] = i;
        random.Shuffle(order);
        return order;
    }
}
