using System.Diagnostics;
using System.Text.Json.Nodes;
using ReaSeq.Models.Representation;
using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// The IUI adapter's costs with its default options: training pairs/s (in-batch InfoNCE steps) beside the FLOP/s of a
/// plain [batch, d]·[d, d] matmul of the adapter's shape measured in the same run, and the time to re-embed a catalog
/// through the trained adapter beside re-encoding it with MiniLM at the encode-only rate the caller measured.
/// A part of <see cref="KnowledgeBenchmark"/> (`reaseq-tools bench knowledge`), not a benchmark of its own.
/// </summary>
public sealed class IuiBenchmark
{
    private const int Dim = 384;
    private readonly int _trainPairs;
    private readonly int _catalog;
    private readonly TimeSpan _minimumDuration;

    public IuiBenchmark() : this(trainPairs: 20_480, catalog: 100_000, minimumDuration: TimeSpan.FromSeconds(3)) { }

    public IuiBenchmark(int trainPairs, int catalog, TimeSpan minimumDuration)
    {
        _trainPairs = trainPairs;
        _catalog = catalog;
        _minimumDuration = minimumDuration;
    }

    /// <param name="encodeOnlyItemsPerSecond">MiniLM items/s of the same run, the re-encode baseline.</param>
    /// <param name="ct">Checked between the parts.</param>
    public JsonObject Run(double encodeOnlyItemsPerSecond, CancellationToken ct)
    {
        TorchDevice.EnsureTorchLoaded();
        var options = new IuiAdapterOptions { Epochs = 1, PairsPerEpoch = 0 };
        var random = new Random(20_251_201);
        var vectors = Enumerable.Range(0, _catalog)
            .Select(_ => Enumerable.Range(0, Dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        int items = Math.Min(_catalog, 4_000);
        var anchors = Enumerable.Range(0, _trainPairs).Select(_ => random.Next(items)).ToArray();
        var pairs = new IuiPairSet(anchors, anchors.Select(a => (a + 1 + random.Next(10)) % items).ToArray(), _trainPairs, 0, 1);
        var pool = vectors.Take(items).Select(v => (float[]?)v).ToArray();

        // Warm-up (allocations, first kernels), then the measured epoch.
        using (new IuiTrainer(new IuiAdapterOptions { Epochs = 1, PairsPerEpoch = options.BatchSize * 2 }).Train(pool, pairs)) { }
        ct.ThrowIfCancellationRequested();
        IuiEpochReport? epoch = null;
        using var model = new IuiTrainer(options).Train(pool, pairs, e => epoch = e);
        double pairsPerSecond = epoch!.PairsPerSecond;
        // Per pair: two adapter rows (2·2d² FLOP forward), its row and column of the logits (2·2·B·d / B per pair
        // counted once: 2·B·d), backward about twice the forward.
        double flopPerPair = 3.0 * (2 * 2.0 * Dim * Dim + 2.0 * options.BatchSize * Dim);

        ct.ThrowIfCancellationRequested();
        double matmulFlops = MatmulBaseline.Flops(options.BatchSize * 2, Dim, Dim, _minimumDuration, minimumCalls: 10);

        model.Adapt(vectors.Take(1024).ToArray()); // warm-up
        var clock = Stopwatch.StartNew();
        var adapted = model.Adapt(vectors);
        double reembedSeconds = clock.Elapsed.TotalSeconds;
        if (adapted.Length != _catalog) throw new InvalidOperationException("The adapter lost items.");
        double reencodeSeconds = _catalog / Math.Max(encodeOnlyItemsPerSecond, 1e-9);

        return new JsonObject
        {
            ["iui_options"] = $"linear residual {Dim}x{Dim} (hidden {options.HiddenDim}), batch {options.BatchSize}, temperature {options.Temperature}",
            ["iui_torch_threads"] = get_num_threads(),
            ["iui_train_pairs"] = epoch.Pairs,
            ["iui_train_pairs_per_s"] = Math.Round(pairsPerSecond, 0),
            ["iui_train_gflop_per_s_estimated"] = Math.Round(pairsPerSecond * flopPerPair / 1e9, 2),
            ["baseline_matmul_shape"] = $"[{options.BatchSize * 2}, {Dim}] x [{Dim}, {Dim}] float32",
            ["baseline_matmul_gflop_per_s"] = Math.Round(matmulFlops / 1e9, 2),
            ["iui_train_vs_matmul"] = Math.Round(pairsPerSecond * flopPerPair / matmulFlops, 3),
            ["iui_reembed_catalog_items"] = _catalog,
            ["iui_reembed_catalog_s"] = Math.Round(reembedSeconds, 3),
            ["iui_reembed_items_per_s"] = Math.Round(_catalog / reembedSeconds, 0),
            ["baseline_reencode_catalog_s"] = Math.Round(reencodeSeconds, 1),
            ["iui_reembed_vs_reencode_speedup"] = Math.Round(reencodeSeconds / reembedSeconds, 1),
        };
    }

}
