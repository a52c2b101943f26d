using ReaSeq.Ingestors.Replay.Synthetic;
using ReaSeq.Models.Representation;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Replay;
using ReaSeq.Tools.Eval;

namespace ReaSeq.Tests.Models.Representation;

[Collection(TorchCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class IuiAdapterTests
{
    private const int Dim = 64;

    /// <summary>
    /// A synthetic world whose users buy within a few sub-categories; the base vectors carry the sub-category only
    /// weakly (unit centre, noise of norm about 2). Items are dealt to sub-categories round-robin, as are the centres.
    /// </summary>
    private static (EvalDataset Data, EvalSplit Split, float[]?[] Base) World()
    {
        var world = SyntheticWorld.Create(new SyntheticOptions
        {
            Seed = 5,
            Users = 500,
            Items = 320,
            Days = 30,
            EventsPerUser = 40,
            NegativesPerClick = 0,
            OffPlatformShare = 0,
        });
        var data = EvalDataset.Load(new SyntheticSource(world), default);
        var split = EvalSplit.Build(data, new EvalSplitOptions { TestFraction = 0.2, HistoryLength = 20, MaxTargets = 10 });
        var (vectors, _) = ClusteredVectors.Generate(world.Items.Count, Dim, world.SubCategories.Count, noise: 0.25, seed: 9);
        // The pool is ordered by item id, which for syn-i000000… is the world's item order.
        Assert.Equal(world.Items.Select(i => i.Id), data.Items.Select(i => i.ItemId));
        return (data, split, vectors.Select(v => (float[]?)v).ToArray());
    }

    [Fact]
    public void Adapter_raises_hr_at_10_over_its_base_vectors_on_a_synthetic_world()
    {
        var (data, split, baseVectors) = World();
        var ids = data.Items.Select(i => i.ItemId).ToList();
        var options = new IuiAdapterOptions { HiddenDim = 0, Window = 3, Temperature = 0.1, Epochs = 6, BatchSize = 256, PairsPerEpoch = 0, LearningRate = 3e-3 };

        var (adapted, extra) = IuiVectors.Compute(baseVectors, data, split, options, "test");

        var before = HitRateMetric.Evaluate(new ItemVectorTable("base", ids, baseVectors), split.Users, [10]).PerK[0].HitRate;
        var after = HitRateMetric.Evaluate(new ItemVectorTable("base+iui", ids, adapted), split.Users, [10]).PerK[0].HitRate;
        Assert.True(after > before * 1.2, $"HR@10 {before:P2} -> {after:P2}");
        Assert.All(adapted, v => Assert.InRange(Math.Sqrt(v!.Sum(x => (double)x * x)), 0.999, 1.001));
        Assert.StartsWith("iui-64-h0-", (string)extra["adapter_version"]!);
    }

    [Fact]
    public void Pairs_never_include_an_interaction_at_or_after_the_cutoff()
    {
        var (data, split, _) = World();
        var index = data.Items.Select((item, i) => (item.ItemId, i)).ToDictionary(p => p.ItemId, p => p.i);
        // After the split every purchase is of an item no one bought before it (offset past the pool), so a single
        // pair that reached across the cutoff would name one.
        const int Offset = 100_000;
        var events = data.Interactions
            .Select(t => new IuiEvent(t.UserId, index[t.ItemId] + (t.TsMs >= split.SplitTsMs ? Offset : 0), t.TsMs)).ToList();
        int after = events.Count(e => e.TsMs >= split.SplitTsMs);
        Assert.True(after > 100, $"only {after} events after the split");

        var pairs = IuiPairs.Build(events, split.SplitTsMs, window: 5);

        Assert.True(pairs.Count > 1000, $"{pairs.Count} pairs");
        Assert.DoesNotContain(pairs.Anchors.Concat(pairs.Positives), item => item >= Offset);
        Assert.Equal(after, pairs.EventsAtOrAfterCutoff);
        Assert.True(pairs.LatestEventTsMs < split.SplitTsMs);
        // The same pairs as from the training events alone: the later events change nothing.
        var trainingOnly = IuiPairs.Build(events.Where(e => e.TsMs < split.SplitTsMs), long.MaxValue, window: 5);
        Assert.Equal(trainingOnly.Anchors, pairs.Anchors);
        Assert.Equal(trainingOnly.Positives, pairs.Positives);
        // And the eval path reads only the split's training purchases.
        Assert.All(split.Training, t => Assert.True(t.TsMs < split.SplitTsMs));
    }

    [Fact]
    public void Pairs_follow_the_window_in_time_order_and_collapse_immediate_repeats()
    {
        var events = new[]
        {
            new IuiEvent("u", 3, 30), new IuiEvent("u", 1, 10), new IuiEvent("u", 2, 20), new IuiEvent("u", 2, 21),
            new IuiEvent("u", 4, 40), new IuiEvent("v", 7, 5), new IuiEvent("v", 8, 50),
        };

        var one = IuiPairs.Build(events, cutoffMs: 50, window: 1);
        Assert.Equal([(1, 2), (2, 3), (3, 4)], one.Anchors.Zip(one.Positives));
        Assert.Equal(1, one.EventsAtOrAfterCutoff);
        Assert.Equal(40, one.LatestEventTsMs);

        var two = IuiPairs.Build(events, cutoffMs: 51, window: 2);
        Assert.Equal([(1, 2), (1, 3), (2, 3), (2, 4), (3, 4), (7, 8)], two.Anchors.Zip(two.Positives));
    }

    [Fact]
    public void Save_and_load_give_identical_vectors_and_version()
    {
        var (vectors, _) = ClusteredVectors.Generate(200, 32, 10, noise: 0.3, seed: 4);
        var random = new Random(1);
        var anchors = Enumerable.Range(0, 2000).Select(_ => random.Next(200)).ToArray();
        var pairs = new IuiPairSet(anchors, anchors.Select(a => (a + 10) % 200).ToArray(), 2000, 0, 1);
        var options = new IuiAdapterOptions { HiddenDim = 48, Epochs = 2, BatchSize = 128, PairsPerEpoch = 0, Temperature = 0.2 };
        using var trained = new IuiTrainer(options).Train(vectors, pairs);
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "iui.bin");

        trained.Save(path);
        using var loaded = IuiModel.Load(path);

        Assert.Equal(trained.Version, loaded.Version);
        Assert.Matches("^iui-32-h48-[0-9a-f]{12}$", loaded.Version);
        var original = trained.Adapt(vectors);
        var reloaded = loaded.Adapt(vectors);
        for (int i = 0; i < vectors.Length; i++) Assert.Equal(original[i], reloaded[i]);
        // Trained away from the identity, and the same seed trains the same weights.
        Assert.NotEqual(vectors[0].Select(x => x / Math.Sqrt(vectors[0].Sum(y => (double)y * y))).Select(x => (float)x), original[0]!);
        using var again = new IuiTrainer(options).Train(vectors, pairs);
        Assert.Equal(trained.Version, again.Version);
        options.Temperature = 0.3;
        using var other = new IuiTrainer(options).Train(vectors, pairs);
        Assert.NotEqual(trained.Version, other.Version);

        File.WriteAllBytes(path, [.. File.ReadAllBytes(path)[..^8], 1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.ThrowsAny<Exception>(() => IuiModel.Load(path));
    }

    [Fact]
    public void A_null_base_vector_stays_null_and_pairs_without_vectors_are_skipped()
    {
        var (vectors, _) = ClusteredVectors.Generate(20, 8, 2, noise: 0.1, seed: 2);
        var withGap = vectors.Select((v, i) => i == 3 ? null : v).ToArray();
        var pairs = new IuiPairSet([0, 1, 2, 3, 4, 5], [2, 3, 4, 5, 6, 7], 12, 0, 1);
        using var model = new IuiTrainer(new IuiAdapterOptions { HiddenDim = 0, Epochs = 1, BatchSize = 4, PairsPerEpoch = 0 }).Train(withGap, pairs);

        var adapted = model.Adapt(withGap);

        Assert.Null(adapted[3]);
        Assert.All(adapted.Where((_, i) => i != 3), v => Assert.Equal(8, v!.Length));
    }
}
