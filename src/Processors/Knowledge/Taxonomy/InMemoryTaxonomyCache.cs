using System.Collections.Concurrent;

namespace ReaSeq.Processors.Knowledge.Taxonomy;

public sealed class InMemoryTaxonomyCache : ITaxonomyCache
{
    private readonly ConcurrentDictionary<TaxonomyCacheKey, CategoryTaxonomies> _entries = new();

    public int Count => _entries.Count;

    public ValueTask<CategoryTaxonomies?> TryGetAsync(TaxonomyCacheKey key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_entries.TryGetValue(key, out var value) ? value : null);

    public ValueTask SetAsync(TaxonomyCacheKey key, CategoryTaxonomies taxonomies, CancellationToken cancellationToken)
    {
        _entries.AddOrUpdate(key, taxonomies, (_, stored) => taxonomies.Generation > stored.Generation ? taxonomies : stored);
        return ValueTask.CompletedTask;
    }

    public ValueTask RemoveAsync(TaxonomyCacheKey key, CancellationToken cancellationToken)
    {
        _entries.TryRemove(key, out _);
        return ValueTask.CompletedTask;
    }
}
