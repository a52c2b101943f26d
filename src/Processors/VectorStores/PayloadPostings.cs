namespace ReaSeq.Processors.VectorStores;

/// <summary>
/// Inverted index key=value → rows holding it. Filters are applied before scoring: the matching rows are the
/// intersection of the postings, and only those rows are scored. Payload filters here are equality on
/// categorical fields (category, perspective, model), which are selective, so scoring only the matches beats
/// scanning everything and discarding afterwards, and a post-filter could return fewer than k hits.
/// Not thread-safe on its own: the owning index guards it with its reader/writer lock.
/// </summary>
internal sealed class PayloadPostings
{
    private readonly Dictionary<(string Key, string Value), HashSet<int>> _rowsByEntry = new();

    public void Add(IReadOnlyDictionary<string, string> payload, int row)
    {
        foreach (var (key, value) in payload)
        {
            if (!_rowsByEntry.TryGetValue((key, value), out var rows))
            {
                rows = new HashSet<int>();
                _rowsByEntry[(key, value)] = rows;
            }

            rows.Add(row);
        }
    }

    public void Remove(IReadOnlyDictionary<string, string> payload, int row)
    {
        foreach (var (key, value) in payload)
        {
            if (_rowsByEntry.TryGetValue((key, value), out var rows) && rows.Remove(row) && rows.Count == 0)
            {
                _rowsByEntry.Remove((key, value));
            }
        }
    }

    /// <summary>Records that the row holding <paramref name="payload"/> moved (swap-remove).</summary>
    public void Move(IReadOnlyDictionary<string, string> payload, int fromRow, int toRow)
    {
        foreach (var (key, value) in payload)
        {
            var rows = _rowsByEntry[(key, value)];
            rows.Remove(fromRow);
            rows.Add(toRow);
        }
    }

    /// <summary>Rows whose payload has every key=value of the filter (in no particular order).</summary>
    public int[] Match(IReadOnlyDictionary<string, string> mustEqual)
    {
        var postings = new List<HashSet<int>>(mustEqual.Count);
        foreach (var (key, value) in mustEqual)
        {
            if (!_rowsByEntry.TryGetValue((key, value), out var rows))
            {
                return [];
            }

            postings.Add(rows);
        }

        // Walk the smallest posting set and probe the others: cost is bounded by the rarest condition.
        postings.Sort((a, b) => a.Count.CompareTo(b.Count));
        var matches = new List<int>(postings[0].Count);
        foreach (var row in postings[0])
        {
            bool all = true;
            for (int i = 1; i < postings.Count && all; i++)
            {
                all = postings[i].Contains(row);
            }

            if (all)
            {
                matches.Add(row);
            }
        }

        return matches.ToArray();
    }

    public void Clear() => _rowsByEntry.Clear();
}
