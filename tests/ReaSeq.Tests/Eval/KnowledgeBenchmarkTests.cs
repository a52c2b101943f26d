using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tools.Bench;

namespace ReaSeq.Tests.Eval;

/// <summary>The benchmark's shape only (tiny parts); its figures are measured by `reaseq bench knowledge`.</summary>
[Trait(Tier.Name, Tier.Integration)]
public sealed class KnowledgeBenchmarkTests
{
    [Fact]
    public async Task Merges_encoder_search_and_pipeline_figures_with_targets()
    {
        var benchmark = new KnowledgeBenchmark(pipelineItems: 8, new EncoderBenchmark(sentences: 64, minimumDuration: TimeSpan.Zero),
            new VectorSearchBenchmark(vectorCount: 2_000, dimension: 64, singleQueries: 10, batches: 1, bruteForceQueries: 3),
            new IuiBenchmark(trainPairs: 2_048, catalog: 2_000, minimumDuration: TimeSpan.Zero));

        var figures = await benchmark.RunAsync(default);

        Assert.Equal("knowledge", benchmark.Name);
        string[] positive =
        [
            "encoder_sentences_per_s_batch32", "search_single_p50_ms", "pipeline_items_per_s", "baseline_encode_only_items_per_s",
            "iui_train_pairs_per_s", "baseline_matmul_gflop_per_s", "iui_reembed_catalog_s", "baseline_reencode_catalog_s",
        ];
        foreach (var key in positive) Assert.True((double)figures[key]! > 0, key);
        Assert.Equal(8, (int)figures["pipeline_items"]!);
        foreach (var key in new[] { "meets_encoder_target", "meets_single_target", "meets_batch_target", "meets_all_targets" })
            Assert.NotNull(figures[key]);
        // The parts are no longer benchmarks of their own: the runner must not measure them twice.
        var names = BenchRunner.All().Select(b => b.Name).ToList();
        Assert.Contains("knowledge", names);
        Assert.DoesNotContain("knowledge-encoder", names);
        Assert.DoesNotContain("knowledge-search", names);
    }
}
