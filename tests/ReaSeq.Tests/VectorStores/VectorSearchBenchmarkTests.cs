using ReaSeq.Tools.Bench;
using Xunit.Abstractions;

namespace ReaSeq.Tests.VectorStores;

public sealed class VectorSearchBenchmarkTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_small_run_reports_every_figure_and_agrees_with_the_brute_force()
    {
        var benchmark = new VectorSearchBenchmark(vectorCount: 3_000, dimension: 64, singleQueries: 20, batches: 2, bruteForceQueries: 5);

        var figures = await benchmark.RunAsync(CancellationToken.None);

        Assert.Equal("knowledge-search", benchmark.Name);
        foreach (var key in new[]
        {
            "search_vectors", "search_dim", "search_single_p50_ms", "search_single_p99_ms", "search_batch64_per_query_p50_ms",
            "search_batch64_per_query_p99_ms", "bruteforce_single_p50_ms", "speedup_vs_bruteforce", "target_single_p50_ms",
            "target_batch64_per_query_ms",
        })
        {
            Assert.True(figures.ContainsKey(key), $"missing figure {key}");
        }

        Assert.Equal(3_000, (int)figures["search_vectors"]!);
        Assert.Equal("5/5", (string)figures["search_top10_equals_bruteforce"]!);
        Assert.True((double)figures["search_single_p99_ms"]! >= (double)figures["search_single_p50_ms"]!);
    }

    /// <summary>The full benchmark, for a developer: REASEQ_BENCH=1 dotnet test --filter Category=Bench
    /// --logger "console;verbosity=detailed".</summary>
    [BenchFact]
    [Trait("Category", "Bench")]
    public async Task Full_vector_search_benchmark()
    {
        var figures = await new VectorSearchBenchmark().RunAsync(CancellationToken.None);
        output.WriteLine(figures.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }
}

/// <summary>Runs only when REASEQ_BENCH is set: benchmarks take tens of seconds and measure, never assert.</summary>
public sealed class BenchFactAttribute : FactAttribute
{
    public BenchFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("REASEQ_BENCH")))
        {
            Skip = "REASEQ_BENCH is not set: benchmarks run on request only.";
        }
    }
}
