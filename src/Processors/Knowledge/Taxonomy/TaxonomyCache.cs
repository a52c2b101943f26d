using System.Collections.Concurrent;

namespace ReaSeq.Processors.Knowledge.Taxonomy;

/// <summary>Layers 1-2 run once per (category, prompt version, backend); this is that identity.</summary>
public readonly record struct TaxonomyCacheKey(string Category, string PromptVersion, string BackendName)
{
    public static TaxonomyCacheKey For(CategoryPath category, string promptVersion, string backendName) =>
        new(category.ToString(), promptVersion, backendName);

    public override string ToString() => $"{BackendName}/{PromptVersion}/{Category}";
}

/// <summary>Where built taxonomies live between runs (PostgreSQL in production, memory in tests).</summary>
public interface ITaxonomyCache
{
    ValueTask<CategoryTaxonomies?> TryGetAsync(TaxonomyCacheKey key, CancellationToken cancellationToken);

    ValueTask SetAsync(TaxonomyCacheKey key, CategoryTaxonomies taxonomies, CancellationToken cancellationToken);

    /// <summary>Forget a taxonomy (e.g. the catalog of the category changed a lot); the next item rebuilds it.</summary>
    ValueTask RemoveAsync(TaxonomyCacheKey key, CancellationToken cancellationToken);
}

public sealed class InMemoryTaxonomyCache : ITaxonomyCache
{
    private readonly ConcurrentDictionary<TaxonomyCacheKey, CategoryTaxonomies> _entries = new();

    public int Count => _entries.Count;

    public ValueTask<CategoryTaxonomies?> TryGetAsync(TaxonomyCacheKey key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_entries.TryGetValue(key, out var value) ? value : null);

    public ValueTask SetAsync(TaxonomyCacheKey key, CategoryTaxonomies taxonomies, CancellationToken cancellationToken)
    {
        _entries[key] = taxonomies;
        return ValueTask.CompletedTask;
    }

    public ValueTask RemoveAsync(TaxonomyCacheKey key, CancellationToken cancellationToken)
    {
        _entries.TryRemove(key, out _);
        return ValueTask.CompletedTask;
    }
}
