namespace ReaSeq.Models.SemanticIds;

/// <summary>
/// The final de-duplication level of TIGER (Rajput et al. 2023, as used for the semantic ids of paper Appendix C): items
/// whose RQ-VAE codes coincide get one more code, their rank among the items sharing that prefix (0, 1, 2, …), so
/// that every full id names exactly one item. Ranks are handed out in the order items are first seen, and an item
/// keeps its rank, so ids stay stable as items arrive (the streaming role stores the ranks in PostgreSQL).
/// </summary>
public static class SemanticIdDeduplication
{
    /// <summary>The prefix as a key: "12-3-255".</summary>
    public static string Key(IReadOnlyList<int> codes) => string.Join('-', codes);

    /// <summary>Ranks for items seen in this order (a pure, in-memory assignment, e.g. for a whole catalog).</summary>
    public static int[] Ranks(IReadOnlyList<int[]> prefixes)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        var next = new Dictionary<string, int>(StringComparer.Ordinal);
        var ranks = new int[prefixes.Count];
        for (int i = 0; i < prefixes.Count; i++)
        {
            var key = Key(prefixes[i]);
            next.TryGetValue(key, out int rank);
            ranks[i] = rank;
            next[key] = rank + 1;
        }
        return ranks;
    }

    /// <summary>Each prefix with its rank appended.</summary>
    public static int[][] Append(IReadOnlyList<int[]> prefixes, IReadOnlyList<int> ranks) =>
        prefixes.Select((p, i) => (int[])[.. p, ranks[i]]).ToArray();

    /// <summary>Fraction of items whose full id is shared with at least one other item.</summary>
    public static double CollisionRate(IReadOnlyList<int[]> ids)
    {
        if (ids.Count == 0) return 0;
        var counts = ids.GroupBy(Key, StringComparer.Ordinal).Where(g => g.Count() > 1).Sum(g => g.Count());
        return counts / (double)ids.Count;
    }
}
