using ReaSeq.Models.SemanticIds;
using ReaSeq.Processors.Knowledge.Streaming;
using ReaSeq.Tests.Infrastructure;
using static TorchSharp.torch;

namespace ReaSeq.Tests.Models;

/// <summary>
/// Issue 10 §1: the RQ-VAE codebooks are initialised by k-means on enough vectors with seeds that cover the data, dead
/// codes are re-seeded at the default settings, and the de-duplication level makes every full id name one item.
/// </summary>
[Collection(TorchCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class SemanticIdInitialisationTests
{
    [Fact]
    public void KMeans_seeds_one_centroid_in_every_well_separated_cluster()
    {
        // 12 tight, far-apart clusters and k = 12: a uniform sample of 12 points misses at least one cluster with
        // probability 1 − 12!/12^12 ≈ 99.995 %; k-means++ seeding places one seed per cluster.
        var (vectors, cluster) = ClusteredVectors.Generate(count: 600, dim: 16, clusters: 12, noise: 0.001, seed: 7);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var points = tensor(vectors.SelectMany(v => v).ToArray(), [vectors.Length, 16]);
        var centroids = KMeans.Fit(points, k: 12, iterations: 0, new Random(1));
        var nearest = KMeans.SquaredDistances(centroids, points).argmin(1).data<long>().ToArray();
        var covered = nearest.Select(i => cluster[i]).Distinct().Count();
        Assert.Equal(12, covered);
    }

    [Fact]
    public void The_trainer_refuses_fewer_vectors_than_the_codebooks_need_and_the_role_waits_for_enough()
    {
        var options = new RqVaeOptions { Levels = 2, CodebookSize = 16, LatentDim = 8, Epochs = 1, Device = "cpu" };
        // k = number of items (the old default of the role: 256 items for 256 codes) is refused with a clear message.
        var (tooFew, _) = ClusteredVectors.Generate(count: 16, dim: 16, clusters: 4, noise: 0.01, seed: 1);
        var error = Assert.Throws<ArgumentException>(() => new RqVaeTrainer(options).Train(tooFew));
        Assert.Contains("at least 64 item vectors", error.Message);

        var defaults = new SemanticIdTrainingOptions();
        Assert.True(defaults.MinItemsForTraining >= 4 * defaults.CodebookSize,
            $"the role trains its first model on {defaults.MinItemsForTraining} items for {defaults.CodebookSize} codes per level");
        Assert.Throws<ArgumentException>(() => new SemanticIdTrainingOptions { MinItemsForTraining = 256 }.Validate());
    }

    [Fact]
    public void Dead_codes_are_reseeded_at_the_default_reset_setting_even_in_a_short_training()
    {
        // 64 distinct vectors, each 16 times: the first level gives each its own code, so the residuals left for the
        // second level are (nearly) equal and a handful of its 256 codes serve every item; the rest are dead.
        // 3 epochs of 1,024 items in batches of 256 are 12 optimiser steps: a reset that waited 50 steps never fired.
        var (distinct, _) = ClusteredVectors.Generate(count: 64, dim: 16, clusters: 64, noise: 0.0, seed: 2);
        var vectors = Enumerable.Range(0, 1_024).Select(i => distinct[i % 64]).ToArray();
        var options = new RqVaeOptions { Epochs = 3, Device = "cpu", Seed = 3 };
        Assert.Equal(1, options.DeadCodeResetEpochs);
        var reports = new List<RqVaeEpochReport>();
        using var model = new RqVaeTrainer(options).Train(vectors, reports.Add);
        Assert.All(reports, r => Assert.True(r.DeadCodesReset > 0, $"epoch {r.Epoch} re-seeded no dead code"));
        Assert.Equal(reports.Sum(r => r.DeadCodesReset), model.Network.DeadCodesReset);
    }

    [Fact]
    public void The_dedup_level_gives_items_sharing_codes_distinct_ranks_in_arrival_order()
    {
        int[][] prefixes = [[1, 2], [3, 4], [1, 2], [1, 2], [3, 4], [5, 6]];
        Assert.Equal(4 / 6.0 + 1 / 6.0, SemanticIdDeduplication.CollisionRate(prefixes), 12);
        var ranks = SemanticIdDeduplication.Ranks(prefixes);
        Assert.Equal([0, 0, 1, 2, 1, 0], ranks);
        var full = SemanticIdDeduplication.Append(prefixes, ranks);
        Assert.Equal([1, 2, 2], full[3]);
        Assert.Equal(0, SemanticIdDeduplication.CollisionRate(full));
    }
}
