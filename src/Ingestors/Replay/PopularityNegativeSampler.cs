namespace ReaSeq.Ingestors.Replay;

/// <summary>
/// Negative sampling for impressions replayed from purchase logs, where nothing records what was shown but not bought.
/// Every observed purchase appends its item to a pool, so a uniform draw from the pool picks an item with probability
/// proportional to how often it was bought <em>so far</em> (popularity at that point in time, no look-ahead).
/// Draws are without replacement and skip excluded items (the user's own basket); when the pool holds too few
/// distinct eligible items (the very first baskets) fewer negatives are returned.
/// </summary>
public sealed class PopularityNegativeSampler(ulong seed)
{
    private const int AttemptsPerNegative = 64;
    private readonly DeterministicRandom _random = new(seed);
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _items = [];
    private readonly List<int> _pool = [];
    private readonly HashSet<int> _chosen = [];
    private IReadOnlySet<string>? _lastExclude;
    private int _lastDistinct = -1;
    private int _lastExcludedKnown;

    public int DistinctItems => _items.Count;
    public int PoolSize => _pool.Count;

    public void Observe(string itemId)
    {
        if (!_ids.TryGetValue(itemId, out var id))
        {
            id = _items.Count;
            _ids.Add(itemId, id);
            _items.Add(itemId);
        }
        _pool.Add(id);
    }

    /// <summary>
    /// Appends up to <paramref name="count"/> distinct items not in <paramref name="exclude"/> to <paramref name="into"/>;
    /// returns how many. Pass the same, unchanged set for every line of one basket: its overlap with the pool is
    /// computed once per basket.
    /// </summary>
    public int Sample(int count, IReadOnlySet<string> exclude, List<string> into)
    {
        if (count <= 0 || _pool.Count == 0) return 0;
        if (!ReferenceEquals(exclude, _lastExclude) || _lastDistinct != _items.Count)
        {
            _lastExclude = exclude;
            _lastDistinct = _items.Count;
            _lastExcludedKnown = exclude.Count(_ids.ContainsKey);
        }
        var wanted = Math.Min(count, _items.Count - _lastExcludedKnown);
        _chosen.Clear();
        var attempts = 0;
        while (_chosen.Count < wanted && attempts++ < wanted * AttemptsPerNegative)
        {
            var id = _pool[_random.NextInt(_pool.Count)];
            if (exclude.Contains(_items[id]) || !_chosen.Add(id)) continue;
            into.Add(_items[id]);
        }
        return _chosen.Count;
    }
}
