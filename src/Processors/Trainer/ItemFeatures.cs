namespace ReaSeq.Processors.Trainer;

/// <summary>
/// What the platform knows about an item, with the event time each part became known, so a training example can use
/// only what existed strictly before its impression.
/// </summary>
/// <param name="ItemId">The item.</param>
/// <param name="Vector">Knowledge vector (§2.1), or null.</param>
/// <param name="SemanticId">Semantic-id codes, or null.</param>
/// <param name="SemanticIdVersion">The semantic-id model version the codes come from.</param>
/// <param name="KnowledgeTsMs">Event time of the item update the vector and id were computed from.</param>
/// <param name="CategoryBucket">From the catalog's category path.</param>
/// <param name="PriceBucket">From the catalog's price.</param>
/// <param name="CatalogTsMs">Event time of the catalog entry.</param>
public sealed record ItemFeatures(
    string ItemId,
    float[]? Vector,
    int[]? SemanticId,
    string? SemanticIdVersion,
    long KnowledgeTsMs,
    int CategoryBucket,
    int PriceBucket,
    long CatalogTsMs);
