using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tools.Bench;

namespace ReaSeq.Tests.Knowledge;

/// <summary>The benchmark's shape only (a short run); its figures are measured by the benchmark runner, not here.</summary>
[Trait(Tier.Name, Tier.Integration)]
public sealed class EncoderBenchmarkTests
{
    [Fact]
    public async Task Reports_throughput_for_each_batch_size()
    {
        var figures = await new EncoderBenchmark(sentences: 64, minimumDuration: TimeSpan.Zero).RunAsync(default);
        Assert.Equal("knowledge-encoder", new EncoderBenchmark().Name);
        foreach (var key in new[] { "encoder_sentences_per_s_batch1", "encoder_sentences_per_s_batch32", "encoder_sentences_per_s_batch64" })
            Assert.True((double)figures[key]! > 0, key);
        Assert.Equal(384, (int)figures["dimension"]!);
    }
}
