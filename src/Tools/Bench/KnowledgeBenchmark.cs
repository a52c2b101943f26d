using System.Diagnostics;
using System.Text.Json.Nodes;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Replay.OnlineRetail;
using ReaSeq.Processors.Knowledge;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Encoders;
using ReaSeq.Processors.Knowledge.Taxonomy;
using ReaSeq.Processors.VectorStores;
using ReaSeq.Tools.Eval;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// The knowledge figures in one file: encoder sentences/s at batch 1/32/64, vector search latency (single and
/// batched), and items/s through the per-item path (extractive layer 3 + encode + upsert, taxonomies prebuilt)
/// against encode-only items/s (MiniLM of the title, batch 32) measured in the same run, and the IUI adapter's
/// training pairs/s and catalog re-embedding time (<see cref="IuiBenchmark"/>) beside a matmul and that encode-only rate.
/// Reproduce with `reaseq-tools bench knowledge`.
/// </summary>
public sealed class KnowledgeBenchmark : IBenchmark
{
    private const int UpsertBatch = 32;
    private readonly int _pipelineItems;
    private readonly EncoderBenchmark _encoder;
    private readonly VectorSearchBenchmark _search;
    private readonly IuiBenchmark _iui;

    public KnowledgeBenchmark() : this(pipelineItems: 300, new EncoderBenchmark(), new VectorSearchBenchmark(), new IuiBenchmark()) { }

    /// <summary>Smaller parts are for trying the benchmark quickly; the reported figures use the defaults.</summary>
    public KnowledgeBenchmark(int pipelineItems, EncoderBenchmark encoder, VectorSearchBenchmark search, IuiBenchmark iui)
    {
        _iui = iui;
        if (pipelineItems < 1) throw new ArgumentOutOfRangeException(nameof(pipelineItems), pipelineItems, "At least one item is needed.");
        _pipelineItems = pipelineItems;
        _encoder = encoder;
        _search = search;
    }

    public string Name => "knowledge";

    public async Task<JsonObject> RunAsync(CancellationToken cancellationToken)
    {
        var figures = new JsonObject();
        Console.Error.WriteLine("bench knowledge: encoder…");
        Merge(figures, await _encoder.RunAsync(cancellationToken));
        Console.Error.WriteLine("bench knowledge: vector search…");
        Merge(figures, await _search.RunAsync(cancellationToken));
        Console.Error.WriteLine("bench knowledge: per-item pipeline…");
        Merge(figures, await PipelineAsync(cancellationToken));
        Console.Error.WriteLine("bench knowledge: IUI adapter…");
        Merge(figures, _iui.Run((double)figures["baseline_encode_only_items_per_s"]!, cancellationToken));
        figures["targets"] = new JsonObject
        {
            ["encoder_sentences_per_s_batch32"] = ">= 150",
            ["search_single_p50_ms"] = "<= 3",
            ["search_batch64_per_query_p50_ms"] = "<= 0.5",
        };
        figures["meets_encoder_target"] = figures["meets_target_batch32"]?.DeepClone();
        figures.Remove("meets_target_batch32");
        figures["meets_all_targets"] = (bool)figures["meets_encoder_target"]! && (bool)figures["meets_single_target"]! && (bool)figures["meets_batch_target"]!;
        return figures;
    }

    private static void Merge(JsonObject into, JsonObject part)
    {
        foreach (var (key, value) in part) into[key] = value?.DeepClone();
    }

    private async Task<JsonObject> PipelineAsync(CancellationToken ct)
    {
        var (items, source) = Items(_pipelineItems);
        using var encoder = new MiniLmEncoder();
        var backend = KnowledgeAgentBackendFactory.Create(new KnowledgeAgentOptions(), encoder);
        var reasoner = new KnowledgeReasoner(backend, encoder, new InMemoryTaxonomyCache(), new InMemoryCategoryCorpus(items));

        // Taxonomies are built once per category and cached in production, so they are prebuilt outside the clock.
        var prebuild = Stopwatch.StartNew();
        var categories = items.Where(i => !i.CategoryPath.IsEmpty).Select(i => i.CategoryPath).Distinct().ToList();
        foreach (var category in categories) await reasoner.GetTaxonomiesAsync(category, ct);
        prebuild.Stop();
        encoder.Encode(items.Take(32).Select(i => i.Title).ToArray()); // warm-up

        await using var index = new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions { Dimension = encoder.Dimension });
        var pending = new List<VectorPoint>(UpsertBatch);
        int failed = 0;
        var clock = Stopwatch.StartNew();
        foreach (var item in items)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                var result = await reasoner.AnalyzeItemAsync(item, ct);
                pending.Add(new VectorPoint(item.ItemId, result.Vector, new Dictionary<string, string> { ["category"] = result.Category.ToString() }));
            }
            catch (AgentOutputException)
            {
                failed++;
            }
            if (pending.Count == UpsertBatch)
            {
                await index.UpsertAsync(pending, ct);
                pending.Clear();
            }
        }
        if (pending.Count > 0) await index.UpsertAsync(pending, ct);
        var pipelineRate = items.Count / clock.Elapsed.TotalSeconds;

        // Baseline: only the encoder, on the raw titles, batched as an encode-only indexer would.
        clock.Restart();
        for (int start = 0; start < items.Count; start += 32)
            encoder.Encode(items.Skip(start).Take(32).Select(i => i.Title).ToArray());
        var encodeOnlyRate = items.Count / clock.Elapsed.TotalSeconds;

        return new JsonObject
        {
            ["pipeline_items"] = items.Count,
            ["pipeline_item_source"] = source,
            ["pipeline_backend"] = reasoner.BackendName,
            ["pipeline_categories_prebuilt"] = categories.Count,
            ["pipeline_taxonomy_prebuild_s"] = Math.Round(prebuild.Elapsed.TotalSeconds, 2),
            ["pipeline_items_per_s"] = Math.Round(pipelineRate, 2),
            ["pipeline_items_without_grounded_knowledge"] = failed,
            ["baseline_encode_only_items_per_s"] = Math.Round(encodeOnlyRate, 1),
            ["pipeline_vs_encode_only"] = Math.Round(pipelineRate / encodeOnlyRate, 3),
        };
    }

    /// <summary>The first distinct Online Retail sample items when the data is present, else synthetic titles.</summary>
    private static (List<KnowledgeItem> Items, string Source) Items(int count)
    {
        if (OnlineRetailData.FindDirectory() is { } dir && File.Exists(Path.Combine(dir, OnlineRetailData.SampleFileName)))
        {
            var data = EvalDataset.Load(new OnlineRetailSource(Path.Combine(dir, OnlineRetailData.SampleFileName),
                new OnlineRetailOptions { NegativesPerPurchase = 0 }), CancellationToken.None);
            var items = data.Items.Take(count).Select(KnowledgeVectors.ToKnowledgeItem).ToList();
            if (items.Count == count) return (items, $"Online Retail sample ({OnlineRetailData.SampleFileName}), first {count} items by stock code");
        }
        string[] colours = ["RED", "WHITE", "BLUE", "PINK", "GREEN", "IVORY"], things = ["HEART T-LIGHT HOLDER", "METAL LANTERN", "CERAMIC MUG", "GARDEN SIGN", "CAKE TIN", "JUMBO BAG"];
        string[] kinds = ["Candles & Lighting", "Candles & Lighting", "Kitchen", "Garden", "Kitchen", "Bags"];
        var random = new Random(7);
        return (Enumerable.Range(0, count).Select(i =>
        {
            int thing = random.Next(things.Length);
            return new KnowledgeItem($"syn-{i}", $"{colours[random.Next(colours.Length)]} {things[thing]} SET OF {random.Next(2, 13)}", categoryPath: [kinds[thing]]);
        }).ToList(), "synthetic titles");
    }
}
