namespace ReaSeq.Api.Features;

/// <summary>
/// What the score path knows about one item: its knowledge vector and semantic id (paper §2.1.2, Appendix C) when the
/// knowledge role has reasoned about it, its catalog side features (category and price buckets, as the trainer buckets
/// them) when the catalog holds it, and its clicks so far (popularity).
/// </summary>
public sealed record ItemFeatures(string ItemId, bool InCatalog, float[]? Vector, int[]? SemanticId, int CategoryBucket, int PriceBucket,
    long Popularity, long KnowledgeTsMs, long LoadedAtMs)
{
    public bool HasKnowledge => Vector is not null;

    /// <summary>Neither catalog nor knowledge has heard of the item.</summary>
    public bool Unknown => !InCatalog && !HasKnowledge;
}
