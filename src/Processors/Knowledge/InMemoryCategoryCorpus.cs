using System.Collections.Concurrent;

namespace ReaSeq.Processors.Knowledge;

/// <summary>Catalog held in memory: tests, replays and small catalogs. Thread-safe.</summary>
public sealed class InMemoryCategoryCorpus : ICategoryCorpusSource
{
    private readonly ConcurrentDictionary<string, KnowledgeItem> _items = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _queries = new(StringComparer.Ordinal);

    public InMemoryCategoryCorpus(IEnumerable<KnowledgeItem>? items = null)
    {
        foreach (var item in items ?? []) Upsert(item);
    }

    public void Upsert(KnowledgeItem item) => _items[item.ItemId] = item;

    /// <summary>Records a search query for a primary category (the demand agent's preferred input).</summary>
    public void AddQuery(string primaryCategory, string query)
    {
        if (string.IsNullOrWhiteSpace(query)) return;
        _queries.GetOrAdd(primaryCategory.Trim(), _ => new ConcurrentQueue<string>()).Enqueue(query.Trim());
    }

    public Task<IReadOnlyList<CategoryPath>> ListCategoriesAsync(CancellationToken cancellationToken)
    {
        var paths = new HashSet<CategoryPath>();
        foreach (var item in _items.Values)
            for (int depth = 1; depth <= item.CategoryPath.Depth; depth++) paths.Add(item.CategoryPath.Prefix(depth));
        IReadOnlyList<CategoryPath> ordered = paths.OrderBy(p => p.ToString(), StringComparer.Ordinal).ToArray();
        return Task.FromResult(ordered);
    }

    public Task<CategoryCorpus> GetCorpusAsync(CategoryPath category, int maxItems, CancellationToken cancellationToken)
    {
        // Ordering by a hash of the id spreads the sample over the catalog yet is the same on every run.
        var items = _items.Values
            .Where(i => !i.CategoryPath.IsEmpty && i.CategoryPath.StartsWith(category))
            .OrderBy(i => StableHash(i.ItemId)).ThenBy(i => i.ItemId, StringComparer.Ordinal)
            .Take(maxItems)
            .ToArray();
        IReadOnlyList<string> queries = category.IsEmpty || !_queries.TryGetValue(category.Segments[0], out var q)
            ? [] : q.ToArray();
        return Task.FromResult(new CategoryCorpus(category, queries, items));
    }

    public Task<int> CountItemsAsync(CategoryPath category, CancellationToken cancellationToken) =>
        Task.FromResult(_items.Values.Count(i => !i.CategoryPath.IsEmpty && i.CategoryPath.StartsWith(category)));

    private static ulong StableHash(string text)
    {
        ulong hash = 14695981039346656037UL; // FNV-1a: stable across processes, unlike string.GetHashCode
        foreach (char c in text) hash = (hash ^ c) * 1099511628211UL;
        return hash;
    }
}
