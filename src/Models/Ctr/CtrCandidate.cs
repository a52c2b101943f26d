namespace ReaSeq.Models.Ctr;

/// <summary>
/// One item to score, with its item-side features as of the scoring moment.
/// </summary>
/// <param name="ItemId">The item.</param>
/// <param name="KnowledgeVector">Its knowledge vector (§2.1), or null when the item has none yet.</param>
/// <param name="SemanticId">Its semantic-id codes (Appendix C), or null when unknown.</param>
/// <param name="CategoryBucket">From <see cref="CtrBuckets.CategoryBucket(string?)"/>.</param>
/// <param name="PriceBucket">From <see cref="CtrBuckets.PriceBucket(double?)"/>.</param>
/// <param name="Popularity">Clicks the item received before the scoring moment (bucketed by
/// <see cref="CtrBuckets.PopularityBucket(long)"/> inside the model's featurizer).</param>
public sealed record CtrCandidate(
    string ItemId,
    float[]? KnowledgeVector,
    int[]? SemanticId,
    int CategoryBucket,
    int PriceBucket,
    long Popularity);
