using System.Globalization;
using System.Text.Json.Nodes;
using ReaSeq.Models.Dllm;
using ReaSeq.Models.Training;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Trainer;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Replay;
using ReaSeq.Tools.Eval;
using ReaSeq.Tools.Eval.Gbr;

namespace ReaSeq.Tests.Eval;

/// <summary>Paper Table 6 (§4.2.4) inside `eval ctr`: the pipeline end to end, and the point-in-time rule of its fills.</summary>
// Seeds libtorch's global generator, like every torch test: one at a time with them (TorchCollection).
[Collection(ReaSeq.Tests.Models.TorchCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class CtrTable6Tests
{
    private static readonly string[] Nouns = ["MUG", "BAG", "CANDLE", "CARD", "CUSHION", "CLOCK"];
    private static readonly string[] Colours = ["RED", "BLUE", "GREEN", "PINK", "WHITE", "BLACK", "IVORY", "GOLD", "SILVER", "LILAC"];
    private static readonly string[] Styles = ["VINTAGE", "RETRO", "FLORAL", "SPOTTY", "STRIPED"];

    /// <summary>
    /// A tiny Online Retail file: 300 items (colour × style × noun titles, so they fall into distinct categories), 40
    /// customers with a favourite noun, each buying about 12 baskets of 3–5 lines over four months, mostly of that noun.
    /// </summary>
    private static string SyntheticRetail(TempDir dir)
    {
        var random = new Random(11);
        var items = new List<(string Code, string Title, double Price)>();
        foreach (var noun in Nouns)
        {
            foreach (var colour in Colours)
            {
                foreach (var style in Styles) items.Add(((10_000 + items.Count).ToString(CultureInfo.InvariantCulture), $"{colour} {style} {noun}", 1 + items.Count % 7));
            }
        }
        var start = new DateTime(2011, 1, 3, 9, 0, 0, DateTimeKind.Unspecified);
        var lines = new List<(DateTime At, string Line)>();
        int invoice = 540_000;
        for (int user = 0; user < 40; user++)
        {
            int favourite = user % Nouns.Length;
            var at = start.AddHours(random.Next(0, 72));
            int baskets = 10 + random.Next(5);
            for (int b = 0; b < baskets; b++)
            {
                // Mostly a few days between baskets, sometimes weeks: temporal gaps; a basket of another noun: category gaps.
                at = at.AddHours(random.NextDouble() < 0.2 ? random.Next(300, 600) : random.Next(20, 120));
                int noun = random.NextDouble() < 0.75 ? favourite : random.Next(Nouns.Length);
                int lineCount = 3 + random.Next(3);
                invoice++;
                for (int l = 0; l < lineCount; l++)
                {
                    var (code, title, price) = items[noun * Colours.Length * Styles.Length + random.Next(Colours.Length * Styles.Length)];
                    lines.Add((at, string.Create(CultureInfo.InvariantCulture,
                        $"{invoice},{code},{title},{1 + random.Next(6)},{at:yyyy-MM-dd HH:mm}:00,{price:F2},{17_000 + user},United Kingdom")));
                }
            }
        }
        return OnlineRetailCsv.Write(dir, "synthetic-retail.csv", lines.OrderBy(l => l.At).Select(l => l.Line));
    }

    [Fact]
    public async Task Table6_runs_the_base_and_both_gbr_rows_on_a_tiny_synthetic_file()
    {
        TorchDevice.SetCpuThreads(1);
        using var dir = new TempDir();
        var csv = SyntheticRetail(dir);
        var output = Path.Combine(dir.Path, "results");
        var options = new CtrTable6Options { Epochs = 1, BatchSize = 8, MaxTrainWindows = 64, WarmupSteps = 2 };

        int code = await CtrEvalCommand.RunAsync(csv, 0, 10, 0.3, 1, "title", output, new VectorCache(Path.Combine(dir.Path, "cache")), default, options);

        Assert.Equal(0, code);
        var json = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "ctr.json")))!;
        var table6 = json["table6"]!;
        Assert.Null(table6["status"]);
        var rows = table6["rows"]!.AsArray();
        Assert.Equal(["base", "GBR-T-0", "GBR-C-0"], rows.Select(r => (string)r!["model"]!));
        foreach (var row in rows)
        {
            Assert.InRange((double)row!["held_out"]!["overall"]!["auc"]!, 0, 1);
            Assert.True((int)row["held_out"]!["overall"]!["impressions"]! > 0);
        }
        foreach (var row in rows.Skip(1))
        {
            Assert.True((int)row!["augmented_states"]! > 0, $"{row["model"]}: no impression got an augmented sequence");
            Assert.InRange((double)row["fills_share_of_held_out_sequences_percent"]!, 0.001, 100);
            Assert.True((int)row["dllm"]!["steps"]! > 0);
            Assert.NotNull(row["lift_over_base_points"]!["overall_gauc"]);
        }
        // Table 6's base row is Table 3's base row.
        Assert.Equal(json["table3"]![0]!["held_out"]!.ToJsonString(), rows[0]!["held_out"]!.ToJsonString());
        Assert.Equal(["base", "GBR-T-0", "GBR-C-1", "GBR-C-0"], table6["paper"]!.AsArray().Select(r => (string)r!["model"]!));
        var png = await File.ReadAllBytesAsync(Path.Combine(output, "ctr.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Fact]
    public void Fills_use_only_purchases_strictly_before_the_impression()
    {
        TorchDevice.SetCpuThreads(1);
        // Two users; u1 buys across categories with long pauses, so both TD and CD put [FILL]s into its history.
        var categories = new[] { "Kitchen", "Bags", "Candles" };
        var clicks = new List<SequenceClick>();
        long day = 86_400_000, ts = 1_300_000_000_000;
        for (int i = 0; i < 24; i++)
        {
            ts += (i % 4 == 0 ? 9 : 1) * day;
            clicks.Add(new SequenceClick("u1", $"a{i}", $"i{i % 9}", ts, categories[i % 3]));
            clicks.Add(new SequenceClick("u2", $"b{i}", $"i{(i + 4) % 9}", ts + 3_600_000, categories[(i / 2) % 3]));
        }
        clicks = [.. clicks.OrderBy(c => c.TimestampMs)];
        var vectors = Enumerable.Range(0, 9).ToDictionary(i => $"i{i}", i => Enumerable.Range(0, 8).Select(k => MathF.Sin(i * 1.7f + k)).ToArray());
        var (table, rows) = CtrTable6.Table(vectors);
        int RowOf(string id) => rows.TryGetValue(id, out var r) ? r : -1;
        Determinism.Seed(3);
        using var model = LladaTiny.Create(new LladaTinyOptions { Layers = 1, ModelDim = 16, Heads = 2, ItemVectorDim = 8, MaxLength = 32, Device = "cpu" });
        long impression = clicks.Where(c => c.UserId == "u1").ElementAt(14).TimestampMs;

        foreach (var variant in new[] { DetectionVariant.Temporal, DetectionVariant.Category })
        {
            // The same moment, once with every purchase known and once with only those strictly before the impression.
            var full = Records(CtrTable6.Detect(clicks, impression, default), model, table, RowOf, variant, impression);
            var past = Records(CtrTable6.Detect(clicks.Where(c => c.TimestampMs < impression).ToList(), impression, default), model, table, RowOf, variant, impression);
            var record = full[("u1", 14)];
            Assert.Equal(10, record.Observed.Count);
            Assert.True(record.TsMs < impression);
            Assert.NotEmpty(record.Fills);
            var before = past[("u1", 14)];
            Assert.Equal(before.Observed, record.Observed);
            Assert.Equal(before.Fills.Select(f => f.Position), record.Fills.Select(f => f.Position));
            for (int f = 0; f < record.Fills.Count; f++) Assert.Equal(before.Fills[f].Vector, record.Fills[f].Vector);
            // A later moment sees the later purchases: the check above is not vacuous.
            Assert.NotEqual(record.Observed, full[("u1", 20)].Observed);
        }
    }

    /// <summary>Fills at three moments (u1 at the impression and later, u2 at the impression), each checked against its input.</summary>
    private static Dictionary<(string User, int Before), AugmentedRecord> Records(GbrDetection detection, LladaTiny model, float[][] table,
        Func<string, int> rowOf, DetectionVariant variant, long impression)
    {
        var events = detection.Users.ToDictionary(u => u.UserId, u => u.Events);
        var u1 = events["u1"];
        var moments = new[] { ("u1", impression), ("u1", u1.Count > 20 ? u1[20].TsMs : impression), ("u2", impression) };
        var result = CtrTable6.Fill(model, table, rowOf, events, moments, variant, 10, "test", default);
        foreach (var (key, r) in result)
        {
            var observed = events[key.User].Take(key.Before).TakeLast(10).ToList();
            Assert.Equal(observed.Select(e => e.ItemId), r.Observed);
            // Each fill sits before an observed purchase that the variant's gap leads into, never before the first.
            Assert.All(r.Fills, f => Assert.True(f.Position > 0 && observed[f.Position].IsGap(variant)));
        }
        return result;
    }
}
