using System.Text.Json.Nodes;
using ReaSeq.Ingestors.Replay.OnlineRetail;
using ReaSeq.Models.Training;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Replay;
using ReaSeq.Tools.Eval;
using ReaSeq.Tools.Eval.Gbr;

namespace ReaSeq.Tests.Eval;

// Seeds libtorch's global generator, like every torch test: one at a time with them (TorchCollection).
[Collection(ReaSeq.Tests.Models.TorchCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class GbrEvalTests
{
    private static GbrOptions Tiny() => new()
    {
        WindowEvents = 8,
        BatchSize = 8,
        MaxTrainWindows = 64,
        MaxEvalWindows = 64,
        WarmupSteps = 2,
        Threads = 1,
        ItemVectors = "title",
        RecoveryItemVectors = "title",
        SyntheticUsers = 80,
        RecoveryMaxTrainWindows = 64,
        SyntheticItems = 64,
        SyntheticDays = 20,
        RecoveryEpochs = 1,
        RecoveryBatchSize = 8,
    };

    [OnlineRetailFact]
    public async Task Table5_runs_every_row_on_the_sample_and_writes_json_and_png()
    {
        TorchDevice.SetCpuThreads(1);
        using var dir = new TempDir();
        var csv = Path.Combine(OnlineRetailData.FindDirectory()!, OnlineRetailData.SampleFileName);
        var output = Path.Combine(dir.Path, "results");

        var document = await GbrTable5.RunAsync(csv, Tiny(), output, new VectorCache(Path.Combine(dir.Path, "cache")), default);

        var json = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "gbr.json")))!;
        Assert.Equal(document.ToJsonString(), json.ToJsonString());
        var rows = json["rows"]!.AsArray();
        Assert.Equal(["GBR-T-0", "GBR-C-0", "GBR-TC-0", "GBR-C-1", "GBR-C-2"], rows.Select(r => (string)r!["model"]!));
        foreach (var row in rows)
        {
            Assert.InRange((double)row!["fill_ratio_percent"]!, 0, 100);
            Assert.True((int)row["mask"]!["samples"]! > 0, "no held-out window was scored");
            Assert.InRange((double)row["mask"]!["ib_acc_percent"]!, 0, 100);
            // The positive is among the candidates, so each token's cross-entropy is ≥ 0 and IB-PPL ≥ 1.
            Assert.True((double)row["mask"]!["ib_ppl"]! >= 1);
            Assert.True((int)row["training"]!["steps"]! > 0);
        }
        // CD marks more transitions than TD on Online Retail (lines of one invoice change category), TDCD is their union.
        double td = (double)rows[0]!["fill_ratio_percent"]!, cd = (double)rows[1]!["fill_ratio_percent"]!, tdcd = (double)rows[2]!["fill_ratio_percent"]!;
        Assert.True(cd > td && tdcd >= cd, $"TD {td}, CD {cd}, TDCD {tdcd}");
        Assert.Equal(13.74, (double)rows[0]!["paper"]!["fill_ratio_percent"]!);
        var png = await File.ReadAllBytesAsync(Path.Combine(output, "gbr.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Fact]
    public async Task Recovery_scores_the_gap_variants_and_every_method_on_a_tiny_synthetic_world()
    {
        TorchDevice.SetCpuThreads(1);
        using var dir = new TempDir();
        var output = Path.Combine(dir.Path, "results");

        var document = await GbrRecovery.RunAsync(Tiny(), output, new VectorCache(Path.Combine(dir.Path, "cache")), default);

        Assert.True((int)document["world"]!["withheld_events"]! > 0);
        Assert.True((int)document["world"]!["true_gap_positions"]! > 0);
        var location = document["location"]!.AsArray();
        Assert.Equal(["TD", "CD", "TDCD", "TD∩CD+RANK"], location.Select(l => (string)l!["variant"]!));
        foreach (var l in location)
        {
            Assert.Equal((int)document["world"]!["true_gap_positions"]!, (long)l!["true_positions"]!);
            Assert.True((long)l["hits"]! <= Math.Min((long)l["flagged"]!, (long)l["true_positions"]!));
        }
        // TDCD is the union of TD and CD, so it finds at least as many true positions as either.
        Assert.True((long)location[2]!["hits"]! >= Math.Max((long)location[0]!["hits"]!, (long)location[1]!["hits"]!));
        var recovery = document["recovery"]!;
        Assert.True((long)recovery["gaps_scored"]! > 0, "no held-out true gap got a [FILL]");
        foreach (var method in new[] { GbrRecovery.FillMethod, GbrRecovery.PopularityMethod, GbrRecovery.PreviousMethod, GbrRecovery.MeanMethod,
                     GbrRecovery.UserHistoryMethod, GbrRecovery.CeilingMethod })
        {
            double at10 = (double)recovery["hit_rate_percent"]![method]!["HR@10"]!, at50 = (double)recovery["hit_rate_percent"]![method]!["HR@50"]!;
            Assert.InRange(at10, 0, 100);
            Assert.True(at50 >= at10, $"{method}: HR@50 {at50} < HR@10 {at10}");
        }
        // Told the withheld session's sub-category, popularity inside it beats popularity over the catalogue.
        Assert.True((double)recovery["hit_rate_percent"]![GbrRecovery.CeilingMethod]!["HR@10"]! >= (double)recovery["hit_rate_percent"]![GbrRecovery.PopularityMethod]!["HR@10"]!);
        // With only 64 items, the 50 most popular cover most of the catalogue.
        Assert.True((double)recovery["hit_rate_percent"]![GbrRecovery.PopularityMethod]!["HR@50"]! > 50);
        Assert.True(File.Exists(Path.Combine(output, "gbr-recovery.json")));
        Assert.True(File.Exists(Path.Combine(output, "gbr-recovery.png")));
    }

    [Fact]
    public void Recovery_options_are_checked_apart_from_table5s()
    {
        var options = Tiny();
        options.RecoveryBatchSize = 1;

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("--recovery-batch", error.Message);
        options.RecoveryBatchSize = 2;
        options.Validate();
        Assert.Equal(8, options.BatchSize);
        options.RecoveryLearningRate = 0;
        Assert.Contains("--recovery-lr", Assert.Throws<ArgumentException>(options.Validate).Message);
        options.RecoveryLearningRate = 0.001;
        options.RecoveryMaxTrainWindows = -1;
        Assert.Contains("--recovery-max-train-windows", Assert.Throws<ArgumentException>(options.Validate).Message);
    }
}
