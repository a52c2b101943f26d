using System.Numerics.Tensors;

namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>
/// The beyond-log recovery measures (issue 9 §5): where the gap variants fire against where withheld events really are,
/// and whether a ranking of items puts a withheld item near the top. Pure functions, so they are testable on hand-made data.
/// </summary>
public static class GbrRecoveryMetrics
{
    /// <summary>
    /// Precision and recall of <paramref name="flagged"/> transitions against the <paramref name="truth"/> ones.
    /// A transition is (user, index of the event it leads into).
    /// </summary>
    public static GbrLocationScore Locate(string variant, IReadOnlySet<(string User, int Event)> flagged, IReadOnlySet<(string User, int Event)> truth)
    {
        ArgumentNullException.ThrowIfNull(flagged);
        ArgumentNullException.ThrowIfNull(truth);
        long hits = flagged.Count(truth.Contains);
        return new GbrLocationScore(variant, flagged.Count, truth.Count, hits);
    }

    /// <summary>
    /// Rows of the <paramref name="k"/> items whose vectors have the highest cosine with <paramref name="query"/>, best first
    /// (ties by row). <paramref name="normalized"/> holds unit vectors; a null row is never returned.
    /// </summary>
    public static int[] Nearest(ReadOnlySpan<float> query, IReadOnlyList<float[]?> normalized, int k)
    {
        ArgumentNullException.ThrowIfNull(normalized);
        float norm = TensorPrimitives.Norm(query);
        var scored = new List<(float Score, int Row)>(normalized.Count);
        for (int i = 0; i < normalized.Count; i++)
        {
            if (normalized[i] is not { } v) continue;
            scored.Add((norm > 0 ? TensorPrimitives.Dot(query, v) / norm : 0, i));
        }
        return scored.OrderByDescending(s => s.Score).ThenBy(s => s.Row).Take(k).Select(s => s.Row).ToArray();
    }

    /// <summary>The unit vector along the sum of two unit vectors: the direction of "the mean of the two neighbours".</summary>
    public static float[] MeanDirection(float[] a, float[] b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var sum = new float[a.Length];
        TensorPrimitives.Add(a, b, sum);
        float norm = TensorPrimitives.Norm(sum);
        if (norm > 0) TensorPrimitives.Divide(sum, norm, sum);
        return sum;
    }

    /// <summary>
    /// The rows of <paramref name="history"/> (a user's clicks in time order; negative rows skipped) by how often they occur,
    /// ties by the more recent last occurrence, then <paramref name="fallback"/>'s rows not already named, <paramref name="k"/> in all.
    /// </summary>
    public static int[] MostClickedBefore(IReadOnlyList<int> history, IReadOnlyList<int> fallback, int k)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(fallback);
        var seen = new Dictionary<int, (int Count, int Last)>();
        for (int i = 0; i < history.Count; i++)
        {
            if (history[i] < 0) continue;
            var previous = seen.GetValueOrDefault(history[i]);
            seen[history[i]] = (previous.Count + 1, i);
        }
        var ranked = seen.OrderByDescending(s => s.Value.Count).ThenByDescending(s => s.Value.Last).Select(s => s.Key).Take(k).ToList();
        foreach (var row in fallback)
        {
            if (ranked.Count >= k) break;
            if (!seen.ContainsKey(row)) ranked.Add(row);
        }
        return [.. ranked];
    }

    /// <summary>Whether any of <paramref name="truth"/> is among the first <paramref name="k"/> of <paramref name="ranked"/>.</summary>
    public static bool Hit(IReadOnlyList<int> ranked, IReadOnlySet<int> truth, int k)
    {
        ArgumentNullException.ThrowIfNull(ranked);
        ArgumentNullException.ThrowIfNull(truth);
        for (int i = 0; i < Math.Min(k, ranked.Count); i++)
            if (truth.Contains(ranked[i])) return true;
        return false;
    }
}
