using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Tools.Eval;

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
