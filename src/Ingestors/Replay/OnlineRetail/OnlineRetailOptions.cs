namespace ReaSeq.Ingestors.Replay.OnlineRetail;

public sealed class OnlineRetailOptions
{
    /// <summary>Sampled negative impressions per purchase line; 0 emits no impressions.</summary>
    public int NegativesPerPurchase { get; set; } = 4;

    /// <summary>Seed of the popularity negative sampler.</summary>
    public ulong Seed { get; set; } = 20101201;

    /// <summary>
    /// True (default): the keyword-derived category becomes the item's category_path (one level). False: it is only
    /// recorded as the attribute derived_category and category_path stays empty for the classifier to fill.
    /// </summary>
    public bool DerivedCategoryAsPath { get; set; } = true;
}
