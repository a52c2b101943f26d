namespace ReaSeq.Models.Representation;

/// <summary>One interaction as the pair builder sees it: a user, an item (index into the base vectors) and its time.</summary>
public readonly record struct IuiEvent(string UserId, int Item, long TsMs);

/// <summary>
/// Positive pairs for the IUI loss, as parallel arrays; <see cref="LatestEventTsMs"/> is the newest event any pair
/// was built from, so a caller can check it against its training cutoff.
/// </summary>
public sealed record IuiPairSet(int[] Anchors, int[] Positives, int EventsUsed, int EventsAtOrAfterCutoff, long LatestEventTsMs)
{
    public int Count => Anchors.Length;
}

/// <summary>
/// Builds co-occurrence pairs from users' interaction sequences: every two events of one user's time-ordered
/// sequence at most <c>window</c> positions apart, when they are different items. Only events strictly before
/// <c>cutoffMs</c> are read (the training period of a time split); later events are counted and dropped, so no
/// pair can carry information from the evaluation period. An immediate repeat of the same item is collapsed so that
/// it does not eat the window.
/// </summary>
public static class IuiPairs
{
    public static IuiPairSet Build(IEnumerable<IuiEvent> events, long cutoffMs, int window)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window), window, "The window must be at least 1.");
        var sequences = new Dictionary<string, List<(int Item, long TsMs)>>(StringComparer.Ordinal);
        int used = 0, dropped = 0;
        long latest = long.MinValue;
        foreach (var e in events)
        {
            if (e.TsMs >= cutoffMs)
            {
                dropped++;
                continue;
            }
            if (e.Item < 0) throw new ArgumentException($"Event of user {e.UserId} has a negative item index {e.Item}.", nameof(events));
            if (!sequences.TryGetValue(e.UserId, out var sequence)) sequences[e.UserId] = sequence = [];
            sequence.Add((e.Item, e.TsMs));
            used++;
            latest = Math.Max(latest, e.TsMs);
        }

        var anchors = new List<int>();
        var positives = new List<int>();
        foreach (var sequence in sequences.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Value))
        {
            // Stable: events of one instant (an invoice) keep their input order.
            var items = sequence.Select((e, i) => (e.Item, e.TsMs, i)).OrderBy(e => e.TsMs).ThenBy(e => e.i).Select(e => e.Item).ToList();
            var collapsed = new List<int>(items.Count);
            foreach (var item in items)
                if (collapsed.Count == 0 || collapsed[^1] != item) collapsed.Add(item);
            for (int i = 0; i < collapsed.Count; i++)
            {
                for (int j = i + 1; j <= Math.Min(collapsed.Count - 1, i + window); j++)
                {
                    if (collapsed[i] == collapsed[j]) continue;
                    anchors.Add(collapsed[i]);
                    positives.Add(collapsed[j]);
                }
            }
        }
        return new IuiPairSet([.. anchors], [.. positives], used, dropped, used == 0 ? 0 : latest);
    }
}
