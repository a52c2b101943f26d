using ReaSeq.Models.SemanticIds;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Models;

[Collection(TorchCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class RqVaeTests : IClassFixture<RqVaeTests.TrainedOnClusters>
{
    private readonly TrainedOnClusters _trained;

    public RqVaeTests(TrainedOnClusters trained) => _trained = trained;

    /// <summary>One training run on 2,000 vectors of width 384 around 50 centres, shared by the tests below.</summary>
    public sealed class TrainedOnClusters : IDisposable
    {
        public TrainedOnClusters()
        {
            (Vectors, Cluster) = ClusteredVectors.Generate(count: 2000, dim: 384, clusters: 50, noise: 0.01, seed: 3);
            Options = new RqVaeOptions { Epochs = 5, BatchSize = 64, Device = "cpu", Seed = 5 };
            Model = new RqVaeTrainer(Options).Train(Vectors, Epochs.Add);
        }

        public float[][] Vectors { get; }
        public int[] Cluster { get; }
        public RqVaeOptions Options { get; }
        public SemanticIdModel Model { get; }
        public List<RqVaeEpochReport> Epochs { get; } = [];

        public void Dispose() => Model.Dispose();
    }

    [Fact]
    public void Training_reports_every_epoch_and_reconstruction_loss_falls_clearly()
    {
        var epochs = _trained.Epochs;
        Assert.Equal(Enumerable.Range(1, _trained.Options.Epochs), epochs.Select(e => e.Epoch));
        Assert.All(epochs, e => Assert.True(double.IsFinite(e.Loss)));
        Assert.True(epochs[^1].ReconstructionLoss < epochs[0].ReconstructionLoss / 3,
            $"Reconstruction went from {epochs[0].ReconstructionLoss:G4} to {epochs[^1].ReconstructionLoss:G4}.");
    }

    [Fact]
    public void Quality_report_shows_used_codebooks_and_a_reconstruction_below_the_data_variance()
    {
        var report = _trained.Model.Evaluate(_trained.Vectors);

        Assert.Equal(2000, report.Items);
        Assert.Equal(_trained.Options.Levels, report.CodebookUsagePerLevel.Count);
        // 50 clusters over 256 first-level codes: the first level must separate at least most clusters.
        Assert.True(report.CodebookUsagePerLevel[0] >= 40 / 256.0, $"Level 0 usage {report.CodebookUsagePerLevel[0]:P1}.");
        Assert.All(report.CodebookUsagePerLevel, usage => Assert.InRange(usage, 0.0, 1.0));
        double variance = Variance(_trained.Vectors);
        Assert.True(report.ReconstructionMse < variance / 2, $"MSE {report.ReconstructionMse:G4} vs variance {variance:G4}.");
    }

    [Fact]
    public void Collision_rate_counts_items_that_share_a_full_id()
    {
        var ids = _trained.Model.AssignIds(_trained.Vectors);
        int colliding = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            for (int j = 0; j < ids.Length; j++)
            {
                if (i != j && ids[i].SequenceEqual(ids[j])) { colliding++; break; }
            }
        }

        var report = _trained.Model.Evaluate(_trained.Vectors);

        Assert.Equal(colliding / (double)ids.Length, report.CollisionRate, 12);
        Assert.Equal(ids.Select(id => string.Join('-', id)).Distinct().Count(), report.DistinctIds);
    }

    [Fact]
    public void Items_of_one_tight_cluster_share_the_first_code_far_more_often_than_random_pairs()
    {
        var ids = _trained.Model.AssignIds(_trained.Vectors);
        var random = new Random(1);
        int samePairs = 0, sameShared = 0, otherPairs = 0, otherShared = 0;
        for (int trial = 0; trial < 20_000; trial++)
        {
            int a = random.Next(ids.Length), b = random.Next(ids.Length);
            if (a == b) continue;
            bool shared = ids[a][0] == ids[b][0];
            if (_trained.Cluster[a] == _trained.Cluster[b]) { samePairs++; if (shared) sameShared++; }
            else { otherPairs++; if (shared) otherShared++; }
        }
        double sameRate = sameShared / (double)samePairs, otherRate = otherShared / (double)otherPairs;
        Assert.True(sameRate > 0.8, $"Same-cluster pairs share the first code {sameRate:P1} of the time.");
        Assert.True(otherRate < 0.1, $"Random pairs share the first code {otherRate:P1} of the time.");
    }

    [Fact]
    public void Ids_carry_the_model_version_and_stay_in_range()
    {
        var ids = _trained.Model.Assign(_trained.Vectors.Take(10).ToArray());
        Assert.Matches("^rqvae-3x256-[0-9a-f]{12}$", _trained.Model.Version);
        Assert.All(ids, id =>
        {
            Assert.Equal(_trained.Model.Version, id.ModelVersion);
            Assert.Equal(3, id.Codes.Count);
            Assert.All(id.Codes, code => Assert.InRange(code, 0, 255));
        });
    }

    [Fact]
    public void Save_then_load_gives_identical_ids_and_version()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("rqvae-").FullName, "tokenizer.rqvae");
        try
        {
            _trained.Model.Save(path);
            using var loaded = SemanticIdModel.Load(path);

            Assert.Equal(_trained.Model.Version, loaded.Version);
            Assert.Equal(_trained.Model.AssignIds(_trained.Vectors), loaded.AssignIds(_trained.Vectors));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void A_damaged_model_file_is_refused()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("rqvae-").FullName, "tokenizer.rqvae");
        try
        {
            _trained.Model.Save(path);
            byte[] bytes = File.ReadAllBytes(path);
            bytes[^3] ^= 0x5a; // flip bits inside the last weight tensor
            File.WriteAllBytes(path, bytes);

            var error = Assert.Throws<InvalidDataException>(() => SemanticIdModel.Load(path));
            Assert.Contains("damaged", error.Message);
            File.WriteAllText(path, "not a model");
            Assert.Throws<InvalidDataException>(() => SemanticIdModel.Load(path));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void Vectors_of_the_wrong_width_or_with_nan_are_rejected()
    {
        var narrow = Assert.Throws<ArgumentException>(() => _trained.Model.AssignIds([new float[10]]));
        Assert.Contains("expected 384", narrow.Message);
        var withNan = new float[384];
        withNan[7] = float.NaN;
        Assert.Throws<ArgumentException>(() => _trained.Model.AssignIds([withNan]));
    }

    [Fact]
    public void Same_seed_trains_the_same_model_and_another_seed_a_different_one()
    {
        var (vectors, _) = ClusteredVectors.Generate(count: 300, dim: 24, clusters: 6, noise: 0.02, seed: 9);
        var options = new RqVaeOptions { LatentDim = 8, Levels = 2, CodebookSize = 16, DecoderHiddenDim = 32, Epochs = 3, BatchSize = 64, Device = "cpu", Seed = 21 };

        using var first = new RqVaeTrainer(options).Train(vectors);
        using var second = new RqVaeTrainer(options).Train(vectors);
        options.Seed = 22;
        using var third = new RqVaeTrainer(options).Train(vectors);

        Assert.Equal(first.Version, second.Version);
        Assert.Equal(first.AssignIds(vectors), second.AssignIds(vectors));
        Assert.NotEqual(first.Version, third.Version);
    }

    [Theory]
    [InlineData(nameof(RqVaeOptions.Levels), 0)]
    [InlineData(nameof(RqVaeOptions.CodebookSize), 1)]
    [InlineData(nameof(RqVaeOptions.BatchSize), 0)]
    [InlineData(nameof(RqVaeOptions.DecoderHiddenDim), -1)]
    public void Invalid_options_are_rejected_with_the_setting_named(string setting, int value)
    {
        var options = new RqVaeOptions();
        typeof(RqVaeOptions).GetProperty(setting)!.SetValue(options, value);
        var error = Assert.Throws<ArgumentException>(() => new RqVaeTrainer(options));
        Assert.Contains(setting, error.Message);
    }

    private static double Variance(float[][] vectors)
    {
        int dim = vectors[0].Length;
        var mean = new double[dim];
        foreach (var v in vectors) for (int j = 0; j < dim; j++) mean[j] += v[j] / vectors.Length;
        double sum = 0;
        foreach (var v in vectors) for (int j = 0; j < dim; j++) sum += (v[j] - mean[j]) * (v[j] - mean[j]);
        return sum / ((double)vectors.Length * dim);
    }
}
