namespace ReaSeq.Processors.Knowledge.Taxonomy;

/// <summary>Where built taxonomies live between runs (PostgreSQL in production, memory in tests).</summary>
public interface ITaxonomyCache
{
    ValueTask<CategoryTaxonomies?> TryGetAsync(TaxonomyCacheKey key, CancellationToken cancellationToken);

    ValueTask SetAsync(TaxonomyCacheKey key, CategoryTaxonomies taxonomies, CancellationToken cancellationToken);

    /// <summary>Forget a taxonomy (e.g. the catalog of the category changed a lot); the next item rebuilds it.</summary>
    ValueTask RemoveAsync(TaxonomyCacheKey key, CancellationToken cancellationToken);
}
