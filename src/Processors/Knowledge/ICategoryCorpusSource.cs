namespace ReaSeq.Processors.Knowledge;

/// <summary>Read access to the catalog for layers 1-2 and classification (backed by the item store in production).</summary>
public interface ICategoryCorpusSource
{
    /// <summary>Every category path that has items, at every depth (primary, secondary, ...).</summary>
    Task<IReadOnlyList<CategoryPath>> ListCategoriesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Items whose path starts with <paramref name="category"/> (a deterministic sample of at most
    /// <paramref name="maxItems"/>) and the search queries recorded for the category's primary level.
    /// </summary>
    Task<CategoryCorpus> GetCorpusAsync(CategoryPath category, int maxItems, CancellationToken cancellationToken);

    /// <summary>How many items have a path that starts with <paramref name="category"/> (taxonomy rebuilds compare it, §2.1.1).</summary>
    Task<int> CountItemsAsync(CategoryPath category, CancellationToken cancellationToken);
}
