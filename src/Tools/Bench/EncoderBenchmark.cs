using System.Diagnostics;
using System.Text.Json.Nodes;
using ReaSeq.Processors.Knowledge.Encoders;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// Throughput of the all-MiniLM-L6-v2 encoder on knowledge texts ("label: keywords; ..." strings of realistic
/// length) at batch sizes 1, 32 and 64. A part of <see cref="KnowledgeBenchmark"/> (`reaseq-tools bench knowledge`), not a
/// benchmark of its own, so the runner does not measure it twice.
/// </summary>
public sealed class EncoderBenchmark
{
    private static readonly string[] Vocabulary =
    [
        "style", "casual", "cotton", "red", "t-shirt", "summer", "breathable", "fit", "relaxed", "hoodie", "fleece", "warm",
        "material", "linen", "colour", "navy", "knitted", "heart", "lantern", "metal", "white", "t-light holder", "gift", "vintage",
        "stainless steel", "non-stick", "induction", "kitchen", "ceramic", "mug", "garden", "wooden", "decoration", "christmas",
    ];

    private readonly int _sentences;
    private readonly TimeSpan _minimumDuration;

    public EncoderBenchmark() : this(sentences: 512, minimumDuration: TimeSpan.FromSeconds(3)) { }

    public EncoderBenchmark(int sentences, TimeSpan minimumDuration)
    {
        _sentences = sentences;
        _minimumDuration = minimumDuration;
    }

    public string Name => "knowledge-encoder";

    public Task<JsonObject> RunAsync(CancellationToken cancellationToken)
    {
        using var encoder = new MiniLmEncoder();
        var texts = KnowledgeTexts(_sentences);
        encoder.Encode(texts.Take(64).ToArray()); // warm-up: first runs allocate and JIT

        var result = new JsonObject
        {
            ["model"] = encoder.ModelName,
            ["dimension"] = encoder.Dimension,
            ["intra_op_threads"] = new MiniLmEncoderOptions().IntraOpThreads,
            ["processor_count"] = Environment.ProcessorCount,
            ["mean_text_chars"] = Math.Round(texts.Average(t => t.Length), 1),
            ["target_sentences_per_s_batch32"] = 150,
        };
        foreach (int batch in new[] { 1, 32, 64 })
        {
            cancellationToken.ThrowIfCancellationRequested();
            result[$"encoder_sentences_per_s_batch{batch}"] = Math.Round(Throughput(encoder, texts, batch, cancellationToken), 1);
        }
        result["meets_target_batch32"] = (double)result["encoder_sentences_per_s_batch32"]! >= 150;
        return Task.FromResult(result);
    }

    private double Throughput(MiniLmEncoder encoder, string[] texts, int batch, CancellationToken cancellationToken)
    {
        long encoded = 0;
        var clock = Stopwatch.StartNew();
        // Repeat passes until the run is long enough to average out scheduling noise (at least one pass).
        do
        {
            for (int start = 0; start + batch <= texts.Length && !cancellationToken.IsCancellationRequested; start += batch)
            {
                encoder.Encode(new ArraySegment<string>(texts, start, batch));
                encoded += batch;
            }
        }
        while (clock.Elapsed < _minimumDuration && !cancellationToken.IsCancellationRequested);
        return encoded / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Deterministic texts shaped like §2.1.2 perspective strings: 3-6 "label: kw, kw" pairs.</summary>
    private static string[] KnowledgeTexts(int count)
    {
        var random = new Random(42);
        string Word() => Vocabulary[random.Next(Vocabulary.Length)];
        return Enumerable.Range(0, count).Select(_ => string.Join("; ", Enumerable.Range(0, random.Next(3, 7))
            .Select(_ => $"{Word()}: {string.Join(", ", Enumerable.Range(0, random.Next(1, 4)).Select(_ => Word()))}"))).ToArray();
    }
}
