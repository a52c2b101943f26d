using System.Text.RegularExpressions;

namespace ReaSeq.Tools.Eval;

public sealed record SameProductAtK(int K, double HitRate);

public sealed record SameProductResult(string Method, int Queries, int RepresentedQueries, int Products, IReadOnlyList<SameProductAtK> PerK);

/// <summary>
/// SM-HR@k of paper Table 2 on Online Retail. The paper's SPU (standard product unit) becomes the stock code without
/// its letter suffix: 85123A and 85123B (and a plain 85123) are variants of product 85123. Queries are the items whose
/// product has at least one other variant in the pool; a query is a hit at k when its k nearest pool items by cosine
/// (itself excluded) include another variant. SM-HR@k = hits / queries. A query the method cannot represent counts
/// as a miss, so every method is scored on the same queries.
/// </summary>
public static partial class SameProductHitRate
{
    public static readonly IReadOnlyList<int> Ks = [1, 5, 10, 30, 50, 100, 200];

    /// <summary>The product a stock code is a variant of: the digits of a digits-then-letters code, else the code itself.</summary>
    public static string ProductOf(string stockCode)
    {
        var match = VariantCode().Match(stockCode.Trim());
        return match.Success ? match.Groups[1].Value : stockCode.Trim().ToUpperInvariant();
    }

    /// <summary>The pool indices of items with at least one other variant, and each item's product.</summary>
    public static (int[] Queries, string[] Products) Queries(IReadOnlyList<string> itemIds)
    {
        var products = itemIds.Select(ProductOf).ToArray();
        var sizes = products.GroupBy(p => p, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return (Enumerable.Range(0, itemIds.Count).Where(i => sizes[products[i]] > 1).ToArray(), products);
    }

    public static SameProductResult Evaluate(ItemVectorTable vectors, IReadOnlyList<int> ks, CancellationToken ct = default)
    {
        if (ks.Count == 0 || ks.Any(k => k < 1)) throw new ArgumentException("k values must be positive");
        var (queries, products) = Queries(vectors.ItemIds);
        if (queries.Length == 0) throw new ArgumentException("No item has another variant of its product in the pool.");
        int maxK = ks.Max();
        // Per query: rank of the first other variant among its neighbours (int.MaxValue when none within maxK).
        var firstHit = new int[queries.Length];
        Parallel.For(0, queries.Length, new ParallelOptions { CancellationToken = ct }, q =>
        {
            int query = queries[q];
            firstHit[q] = int.MaxValue;
            if (vectors.Normalized[query] is null) return;
            var neighbours = HitRateMetric.NearestNeighbours(vectors, query, maxK);
            for (int r = 0; r < neighbours.Length; r++)
            {
                if (products[neighbours[r]] == products[query])
                {
                    firstHit[q] = r;
                    break;
                }
            }
        });
        var perK = ks.Select(k => new SameProductAtK(k, firstHit.Count(r => r < k) / (double)queries.Length)).ToList();
        int represented = queries.Count(q => vectors.Normalized[q] is not null);
        int productCount = queries.Select(q => products[q]).Distinct(StringComparer.Ordinal).Count();
        return new SameProductResult(vectors.Method, queries.Length, represented, productCount, perK);
    }

    [GeneratedRegex("^([0-9]+)[A-Za-z]+$")]
    private static partial Regex VariantCode();
}
