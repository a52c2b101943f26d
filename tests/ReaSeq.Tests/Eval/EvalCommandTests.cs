using System.Globalization;
using System.Text.Json.Nodes;
using ReaSeq.Ingestors.Replay.OnlineRetail;
using ReaSeq.Models.Representation;
using ReaSeq.Models.Training;
using ReaSeq.Processors.Knowledge.Encoders;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Replay;
using ReaSeq.Tools.Eval;

namespace ReaSeq.Tests.Eval;

// Seeds libtorch's global generator, like every torch test: one at a time with them (TorchCollection).
[Collection(ReaSeq.Tests.Models.TorchCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class EvalCommandTests
{
    /// <summary>
    /// The sample covers a single morning, in which no customer buys twice. Its real rows are kept, but each invoice
    /// is given to one of six customers in turn, so that every customer has purchases on both sides of the split.
    /// </summary>
    private static string SampleWithReturningCustomers(TempDir dir)
    {
        var source = Path.Combine(OnlineRetailData.FindDirectory()!, OnlineRetailData.SampleFileName);
        var lines = File.ReadAllLines(source);
        Assert.Equal(OnlineRetailCsv.Header, lines[0]);
        var invoices = new Dictionary<string, int>(StringComparer.Ordinal);
        var rows = new List<string>();
        foreach (var line in lines.Skip(1))
        {
            // CustomerID and Country are the last two fields and never quoted.
            int country = line.LastIndexOf(','), customer = line.LastIndexOf(',', country - 1);
            var invoice = line[..line.IndexOf(',')];
            int ordinal = invoices.TryGetValue(invoice, out var seen) ? seen : invoices[invoice] = invoices.Count;
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"{line[..(customer + 1)]}{90000 + ordinal % 6}{line[country..]}"));
        }
        return OnlineRetailCsv.Write(dir, "returning.csv", rows);
    }

    [OnlineRetailFact]
    public async Task Writes_the_table_as_json_and_png_with_consistent_figures()
    {
        TorchDevice.SetCpuThreads(1);
        using var dir = new TempDir();
        var csv = SampleWithReturningCustomers(dir);
        var output = Path.Combine(dir.Path, "results");
        var cache = new VectorCache(Path.Combine(dir.Path, "cache"));

        var document = await EvalCommand.RunAsync(csv, new EvalSplitOptions { TestFraction = 0.3 }, ["cooc", "title"], new IuiAdapterOptions(), output, cache, default);

        var json = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "representations.json")))!;
        Assert.Equal(document.ToJsonString(), json.ToJsonString());
        Assert.Equal(6, (int)json["data"]!["users"]!);
        Assert.Contains("CC BY 4.0", (string)json["data"]!["attribution"]!);
        var methods = json["methods"]!.AsArray();
        Assert.Equal(["cooc", "title"], methods.Select(m => (string)m!["method"]!));
        foreach (var method in methods)
        {
            var hr = EvalCommand.Ks.Select(k => (double)method!["hit_rate_percent"]![$"HR@{k}"]!).ToArray();
            Assert.All(hr, h => Assert.InRange(h, 0, 100));
            // A larger k retrieves a superset, so the hit rate cannot drop.
            Assert.True(hr.Zip(hr.Skip(1)).All(p => p.First <= p.Second), string.Join(", ", hr));
        }
        Assert.True((double)methods[1]!["hit_rate_percent"]!["HR@500"]! > 0, "the title vectors found nothing");
        var png = await File.ReadAllBytesAsync(Path.Combine(output, "representations.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.NotEmpty(Directory.GetFiles(cache.Directory, "title-*.bin"));
    }

    [OnlineRetailFact]
    public async Task Every_row_of_the_table_runs_on_the_sample_with_same_product_hit_rates()
    {
        TorchDevice.SetCpuThreads(1);
        using var dir = new TempDir();
        var csv = SampleWithReturningCustomers(dir);
        var output = Path.Combine(dir.Path, "results");
        var iui = new IuiAdapterOptions { HiddenDim = 64, Epochs = 1, BatchSize = 64, PairsPerEpoch = 2_000 };

        var document = await EvalCommand.RunAsync(csv, new EvalSplitOptions { TestFraction = 0.3 }, EvalCommand.AllMethods, iui, output,
            new VectorCache(Path.Combine(dir.Path, "cache")), default);

        var methods = document["methods"]!.AsArray();
        Assert.Equal(EvalCommand.AllMethods, methods.Select(m => (string)m!["method"]!));
        foreach (var method in methods)
        {
            var sm = SameProductHitRate.Ks.Select(k => (double)method!["same_product_hit_rate_percent"]![$"SM-HR@{k}"]!).ToArray();
            Assert.All(sm, h => Assert.InRange(h, 0, 100));
            Assert.True(sm.Zip(sm.Skip(1)).All(p => p.First <= p.Second), string.Join(", ", sm));
            Assert.True((int)method!["same_product_queries"]! > 10);
        }
        foreach (var adapted in methods.Where(m => ((string)m!["method"]!).EndsWith("+iui", StringComparison.Ordinal)))
        {
            Assert.StartsWith("iui-384-h64-", (string)adapted!["adapter_version"]!);
            Assert.True((int)adapted["iui_pairs"]! > 0);
            Assert.True(string.CompareOrdinal((string)adapted["iui_latest_pair_event_utc"]!, (string)document["data"]!["split_utc"]!) < 0);
        }
        Assert.NotNull(document["knowledge_iui_beats_baselines_at_every_k"]);
        Assert.True((double)methods[2]!["same_product_hit_rate_percent"]!["SM-HR@200"]! > 0, "title+iui found no variant");
        Assert.True(File.Exists(Path.Combine(output, "representations-sm-hr.png")));
    }

    [OnlineRetailFact]
    public async Task Knowledge_vectors_come_from_the_reasoner_and_differ_from_title_vectors()
    {
        using var encoder = new MiniLmEncoder();
        var items = new[]
        {
            new EvalItem("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "Candles & Lighting"),
            new EvalItem("71053", "WHITE METAL LANTERN", "Candles & Lighting"),
            new EvalItem("84406B", "CREAM CUPID HEARTS COAT HANGER", null),
        };
        var knowledge = await KnowledgeVectors.ComputeAsync(encoder, items, default);
        var titles = TitleVectors.Compute(encoder, items, default);

        Assert.Equal("extractive", knowledge.Backend);
        Assert.Equal(0, knowledge.Failed);
        for (int i = 0; i < items.Length; i++)
        {
            Assert.Equal(encoder.Dimension, knowledge.Vectors[i]!.Length);
            Assert.NotEqual(titles[i], knowledge.Vectors[i]);
        }
    }

    [Fact]
    public void Cache_round_trips_vectors_and_ignores_a_mismatched_file()
    {
        using var dir = new TempDir();
        var cache = new VectorCache(dir.Path);
        var key = VectorCache.Key(["m"], ["a", "b"]);
        Assert.NotEqual(key, VectorCache.Key(["m"], ["ab"]));
        cache.Save("m", key, [[1f, 2f], null, [3f, 4f]]);

        var loaded = cache.TryLoad("m", key, 3)!;
        Assert.Equal([1f, 2f], loaded[0]!);
        Assert.Null(loaded[1]);
        Assert.Equal([3f, 4f], loaded[2]!);
        Assert.Null(cache.TryLoad("m", key, 4));
        Assert.Null(cache.TryLoad("m", "other", 3));
    }
}
