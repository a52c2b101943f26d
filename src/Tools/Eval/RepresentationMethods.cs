using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts.Knowledge;
using ReaSeq.Models.Training;
using ReaSeq.Processors.Knowledge;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Taxonomy;
using static TorchSharp.torch;

namespace ReaSeq.Tools.Eval;

/// <summary>Prints "label: done/total (rate items/s)" to stderr at most every two seconds.</summary>
public sealed class ProgressReporter(string label, int total)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastPrint = TimeSpan.Zero;

    public void Report(int done, bool final = false)
    {
        if (!final && _clock.Elapsed - _lastPrint < TimeSpan.FromSeconds(2)) return;
        _lastPrint = _clock.Elapsed;
        var rate = done / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
        Console.Error.WriteLine($"{label}: {done:N0}/{total:N0} ({rate:F1} items/s{(final ? $", {_clock.Elapsed.TotalSeconds:F1} s" : "")})");
    }

    public double ItemsPerSecond(int done) => done / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
}

/// <summary>MiniLM of the raw item title: the text baseline without any knowledge.</summary>
public static class TitleVectors
{
    public static IReadOnlyList<float[]?> Compute(ISentenceEncoder encoder, IReadOnlyList<EvalItem> items, CancellationToken ct)
    {
        const int batch = 64;
        var vectors = new float[]?[items.Count];
        var progress = new ProgressReporter("eval title: encoding", items.Count);
        for (int start = 0; start < items.Count; start += batch)
        {
            ct.ThrowIfCancellationRequested();
            var titles = items.Skip(start).Take(batch).Select(i => i.Title).ToArray();
            var encoded = encoder.Encode(titles);
            for (int i = 0; i < encoded.Length; i++) vectors[start + i] = encoded[i];
            progress.Report(start + titles.Length);
        }
        progress.Report(items.Count, final: true);
        return vectors;
    }
}

public sealed record KnowledgeVectorsResult(IReadOnlyList<float[]?> Vectors, int Failed, double ItemsPerSecond, string Backend, string PromptVersion);

/// <summary>
/// §2.1.2 knowledge vectors: every item through the reasoner (taxonomies per category, layer 3, evidence guard,
/// dual-perspective encoding). Items the pipeline would dead-letter (no grounded knowledge) get no vector.
/// </summary>
public static class KnowledgeVectors
{
    public static KnowledgeItem ToKnowledgeItem(EvalItem item) =>
        new(item.ItemId, item.Title, categoryPath: item.Category is null ? [] : [item.Category]);

    public static IKnowledgeAgentBackend Backend(ISentenceEncoder encoder) =>
        KnowledgeAgentBackendFactory.Create(new KnowledgeAgentOptions { Backend = KnowledgeAgentOptions.Extractive }, encoder,
            loggerFactory: NullLoggerFactory.Instance);

    public static async Task<KnowledgeVectorsResult> ComputeAsync(ISentenceEncoder encoder, IReadOnlyList<EvalItem> items, CancellationToken ct)
    {
        var knowledgeItems = items.Select(ToKnowledgeItem).ToList();
        var backend = Backend(encoder);
        var reasoner = new KnowledgeReasoner(backend, encoder, new InMemoryTaxonomyCache(), new InMemoryCategoryCorpus(knowledgeItems));
        var vectors = new float[]?[items.Count];
        var progress = new ProgressReporter("eval knowledge: reasoning + encoding", items.Count);
        int failed = 0;
        for (int i = 0; i < knowledgeItems.Count; i++)
        {
            try
            {
                vectors[i] = (await reasoner.AnalyzeItemAsync(knowledgeItems[i], ct)).Vector;
            }
            catch (AgentOutputException)
            {
                failed++;
            }
            progress.Report(i + 1);
        }
        progress.Report(items.Count, final: true);
        return new KnowledgeVectorsResult(vectors, failed, progress.ItemsPerSecond(items.Count), reasoner.BackendName, reasoner.PromptVersion);
    }
}

public sealed class CooccurrenceOptions
{
    /// <summary>Dimensions kept from the truncated SVD of the PPMI matrix.</summary>
    public int Dimension { get; set; } = 128;

    /// <summary>Extra random directions and power iterations of the randomized SVD (accuracy of the top dimensions).</summary>
    public int Oversampling { get; set; } = 16;
    public int PowerIterations { get; set; } = 3;
    public int Seed { get; set; } = 17;
}

/// <summary>
/// The ID-only baseline: item-item co-occurrence within training baskets (invoices), positive pointwise mutual
/// information, then a rank-d SVD (vectors U·sqrt(Σ)), the classic count-based item2vec. Only interactions before
/// the split are used, so items first sold after it have no vector.
/// </summary>
public static class CooccurrenceVectors
{
    public static IReadOnlyList<float[]?> Compute(IReadOnlyList<EvalItem> items, IReadOnlyList<EvalInteraction> training, CooccurrenceOptions options)
    {
        int n = items.Count;
        var index = items.Select((item, i) => (item.ItemId, i)).ToDictionary(p => p.ItemId, p => p.i, StringComparer.Ordinal);
        var counts = new float[(long)n * n];
        foreach (var basket in training.GroupBy(t => t.Basket, StringComparer.Ordinal))
        {
            var members = basket.Select(t => index[t.ItemId]).Distinct().ToArray();
            foreach (var a in members)
            {
                foreach (var b in members)
                    if (a != b) counts[(long)a * n + b] += 1;
            }
        }
        var rowSums = new double[n];
        double total = 0;
        for (int a = 0; a < n; a++)
        {
            for (int b = 0; b < n; b++) rowSums[a] += counts[(long)a * n + b];
            total += rowSums[a];
        }
        if (total == 0) return new float[]?[n];
        for (int a = 0; a < n; a++)
        {
            for (int b = 0; b < n; b++)
            {
                long at = (long)a * n + b;
                if (counts[at] == 0) continue;
                counts[at] = (float)Math.Max(0, Math.Log(counts[at] * total / (rowSums[a] * rowSums[b])));
            }
        }

        int rank = Math.Min(options.Dimension, n);
        var embedding = TruncatedSvd(counts, n, rank, options);
        var vectors = new float[]?[n];
        for (int a = 0; a < n; a++)
            if (rowSums[a] > 0) vectors[a] = embedding.AsSpan(a * rank, rank).ToArray();
        return vectors;
    }

    /// <summary>Randomized SVD (range finder with power iterations) of the symmetric n×n matrix: rows of U·sqrt(Σ).</summary>
    private static float[] TruncatedSvd(float[] matrix, int n, int rank, CooccurrenceOptions options)
    {
        TorchDevice.EnsureTorchLoaded();
        using var scope = NewDisposeScope();
        random.manual_seed(options.Seed);
        var a = tensor(matrix, [n, n]);
        int sketch = Math.Min(n, rank + options.Oversampling);
        var q = linalg.qr(a.mm(randn(n, sketch))).Q;
        for (int i = 0; i < options.PowerIterations; i++) q = linalg.qr(a.mm(a.t().mm(q))).Q;
        var (u, s, _) = linalg.svd(q.t().mm(a), fullMatrices: false);
        var leading = q.mm(u).narrow(1, 0, rank) * s.narrow(0, 0, rank).sqrt().unsqueeze(0);
        return leading.contiguous().data<float>().ToArray();
    }
}
