using System.Numerics.Tensors;

namespace ReaSeq.Tools.Eval;

public sealed record HitRateAtK(int K, double HitRate, double MacroRecall);

public sealed record HitRateResult(string Method, int Users, int Pairs, int Represented, IReadOnlyList<HitRateAtK> PerK)
{
    /// <summary>The table's summary column: the per-user (macro) recall averaged over the k values.</summary>
    public double MacroRecall => PerK.Average(p => p.MacroRecall);
}

/// <summary>
/// HR@k of §4.1.1: for each item of the user's sequence retrieve its k nearest pool items by cosine (the item itself
/// excluded); the union is the user's retrieved set; a (user, target) pair is a hit when the target is in it.
/// HR@k = hits / pairs. Macro recall@k = per user, the fraction of their targets hit, averaged over users.
/// </summary>
public static class HitRateMetric
{
    public static HitRateResult Evaluate(ItemVectorTable vectors, IReadOnlyList<EvalUser> users, IReadOnlyList<int> ks, CancellationToken ct = default)
    {
        if (ks.Count == 0 || ks.Any(k => k < 1)) throw new ArgumentException("k values must be positive");
        if (users.Count == 0) throw new ArgumentException("No users to evaluate: the split left no user with history before and new items after it.");
        int maxK = ks.Max();
        var queries = users.SelectMany(u => u.History).Distinct(StringComparer.Ordinal)
            .Select(vectors.IndexOf).Where(i => i is not null && vectors.Normalized[i.Value] is not null).Select(i => i!.Value).ToArray();
        var neighbours = new Dictionary<int, Dictionary<int, int>>(queries.Length);
        var ranked = new Dictionary<int, int>[queries.Length];
        Parallel.For(0, queries.Length, new ParallelOptions { CancellationToken = ct }, q => ranked[q] = RankOf(NearestNeighbours(vectors, queries[q], maxK)));
        for (int q = 0; q < queries.Length; q++) neighbours[queries[q]] = ranked[q];

        var hits = new long[ks.Count];
        var recallSums = new double[ks.Count];
        int pairs = 0;
        foreach (var user in users)
        {
            var history = user.History.Select(vectors.IndexOf).Where(i => i is not null && neighbours.ContainsKey(i.Value))
                .Select(i => neighbours[i!.Value]).Distinct().ToList();
            var userHits = new int[ks.Count];
            foreach (var target in user.Targets)
            {
                // The target is in the union of top-k lists exactly when its best rank over the sequence is below k.
                int best = int.MaxValue;
                if (vectors.IndexOf(target) is { } t)
                {
                    foreach (var ranks in history)
                        if (ranks.TryGetValue(t, out var rank) && rank < best) best = rank;
                }

                for (int j = 0; j < ks.Count; j++)
                    if (best < ks[j]) userHits[j]++;
            }
            pairs += user.Targets.Count;
            for (int j = 0; j < ks.Count; j++)
            {
                hits[j] += userHits[j];
                recallSums[j] += (double)userHits[j] / user.Targets.Count;
            }
        }
        var perK = ks.Select((k, j) => new HitRateAtK(k, (double)hits[j] / pairs, recallSums[j] / users.Count)).ToList();
        return new HitRateResult(vectors.Method, users.Count, pairs, vectors.Represented, perK);
    }

    /// <summary>
    /// Pool indices of the k most cosine-similar represented items, best first; ties go to the lower index so the
    /// result is deterministic.
    /// </summary>
    public static int[] NearestNeighbours(ItemVectorTable vectors, int query, int k)
    {
        var q = vectors.Normalized[query] ?? throw new ArgumentException("The query item has no vector.");
        var scores = new List<(float Score, int Index)>(vectors.Normalized.Length);
        for (int i = 0; i < vectors.Normalized.Length; i++)
        {
            if (i == query || vectors.Normalized[i] is not { } v) continue;
            scores.Add((TensorPrimitives.Dot(q, v), i));
        }
        scores.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Index.CompareTo(b.Index));
        return scores.Take(k).Select(s => s.Index).ToArray();
    }

    private static Dictionary<int, int> RankOf(int[] list)
    {
        var ranks = new Dictionary<int, int>(list.Length);
        for (int r = 0; r < list.Length; r++) ranks[list[r]] = r;
        return ranks;
    }
}
