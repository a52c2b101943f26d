namespace ReaSeq.Contracts;

/// <summary>Default topic names of the platform (DESIGN §2). Keys decide partitioning: user topics are keyed by user_id.</summary>
public static class Topics
{
    public const string ItemUpdates = "reaseq.item-updates";
    public const string Queries = "reaseq.queries";
    public const string Clicks = "reaseq.clicks";
    public const string Impressions = "reaseq.impressions";
    public const string ItemKnowledge = "reaseq.item-knowledge";
    public const string SequenceGaps = "reaseq.sequence-gaps";
    public const string AugmentedSequences = "reaseq.augmented-sequences";
    public const string CtrModels = "reaseq.ctr-models";
    public const string DeadLetters = "reaseq.dlq";

    public static readonly IReadOnlyList<string> All =
        [ItemUpdates, Queries, Clicks, Impressions, ItemKnowledge, SequenceGaps, AugmentedSequences, CtrModels, DeadLetters];
}
