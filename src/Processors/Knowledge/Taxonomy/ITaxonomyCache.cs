namespace ReaSeq.Processors.Knowledge.Taxonomy;

/// <summary>Where built taxonomies live between runs (PostgreSQL in production, memory in tests).</summary>
public interface ITaxonomyCache
{
    /// <summary>The newest generation of the key's taxonomies, or null.</summary>
    ValueTask<CategoryTaxonomies?> TryGetAsync(TaxonomyCacheKey key, CancellationToken cancellationToken);

    /// <summary>Like <see cref="TryGetAsync"/>, but past any process-local copy (another instance may have rebuilt it).</summary>
    ValueTask<CategoryTaxonomies?> RefreshAsync(TaxonomyCacheKey key, CancellationToken cancellationToken) => TryGetAsync(key, cancellationToken);

    /// <summary>
    /// Stores <paramref name="taxonomies"/> as its generation of the key. The first writer of a generation wins; a later
    /// writer of the same generation is ignored, and reads return the winner.
    /// </summary>
    ValueTask SetAsync(TaxonomyCacheKey key, CategoryTaxonomies taxonomies, CancellationToken cancellationToken);

    /// <summary>Forget a taxonomy (e.g. the catalog of the category changed a lot); the next item rebuilds it.</summary>
    ValueTask RemoveAsync(TaxonomyCacheKey key, CancellationToken cancellationToken);
}
