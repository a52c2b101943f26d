using ReaSeq.Processors.Knowledge.Encoders;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Knowledge;

/// <summary>One encoder for the whole test class: loading the ONNX model costs a second.</summary>
public sealed class EncoderFixture : IDisposable
{
    public MiniLmEncoder Encoder { get; } = new();
    public void Dispose() => Encoder.Dispose();
}

[CollectionDefinition(Name)]
public sealed class EncoderCollection : ICollectionFixture<EncoderFixture>
{
    public const string Name = "MiniLM encoder";
}

[Collection(EncoderCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class MiniLmEncoderTests(EncoderFixture fixture)
{
    private readonly MiniLmEncoder _encoder = fixture.Encoder;

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0;
        for (int i = 0; i < a.Length; i++) dot += a[i] * (double)b[i];
        return dot;
    }

    [Fact]
    public void Produces_384_dimensional_unit_vectors()
    {
        var vectors = _encoder.Encode(["WHITE HANGING HEART T-LIGHT HOLDER", "a", "knitted union flag hot water bottle"]);
        Assert.Equal(384, _encoder.Dimension);
        Assert.All(vectors, v =>
        {
            Assert.Equal(384, v.Length);
            Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4);
        });
    }

    [Fact]
    public void Related_products_are_closer_than_unrelated_ones()
    {
        var v = _encoder.Encode(["red cotton t-shirt", "crimson tee made of cotton", "stainless steel kitchen knife",
                                 "WHITE METAL LANTERN", "glass candle holder for the garden"]);
        double related = Cosine(v[0], v[1]);
        double unrelated = Cosine(v[0], v[2]);
        Assert.True(related > unrelated + 0.3, $"related {related:F3} vs unrelated {unrelated:F3}");
        Assert.True(Cosine(v[3], v[4]) > Cosine(v[3], v[0]), "lantern should be nearer candle holder than t-shirt");
    }

    [Fact]
    public void Batch_result_equals_single_results_despite_padding()
    {
        string[] sentences = ["short", "a much longer product description about a knitted union flag hot water bottle", ""];
        var batch = _encoder.Encode(sentences);
        for (int i = 0; i < sentences.Length; i++)
        {
            var single = _encoder.Encode([sentences[i]])[0];
            for (int d = 0; d < single.Length; d++) Assert.Equal(single[d], batch[i][d], 4);
        }
    }

    [Fact]
    public void Case_is_ignored_like_the_uncased_model_expects()
    {
        var v = _encoder.Encode(["WHITE METAL LANTERN", "white metal lantern"]);
        Assert.Equal(1.0, Cosine(v[0], v[1]), 4);
    }

    [Fact]
    public void Empty_string_gives_a_finite_unit_vector_and_empty_batch_gives_nothing()
    {
        var v = _encoder.Encode([""])[0];
        Assert.All(v, x => Assert.True(float.IsFinite(x)));
        Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4);
        Assert.Empty(_encoder.Encode([]));
    }

    [Fact]
    public void Overlong_input_is_truncated_not_rejected()
    {
        string longText = string.Join(' ', Enumerable.Repeat("cotton", 2000));
        var v = _encoder.Encode([longText, string.Join(' ', Enumerable.Repeat("cotton", 400))]);
        // Both are cut to the same 256-token window, so they encode identically.
        Assert.Equal(1.0, Cosine(v[0], v[1]), 4);
    }

    [Fact]
    public void Concurrent_calls_return_the_same_vectors_as_sequential_ones()
    {
        string[] sentences = ["red cotton t-shirt", "stainless steel kitchen knife", "garden lantern"];
        var expected = _encoder.Encode(sentences);
        var results = new float[8][][];
        Parallel.For(0, results.Length, i => results[i] = _encoder.Encode(sentences));
        foreach (var r in results)
        {
            for (int s = 0; s < sentences.Length; s++)
                Assert.Equal(1.0, Cosine(expected[s], r[s]), 4);
        }
    }

    [Fact]
    public void Null_sentence_is_a_clear_error()
    {
        Assert.Throws<ArgumentException>(() => _encoder.Encode([null!]));
    }
}
