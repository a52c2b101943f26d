namespace ReaSeq.Processors.Knowledge.Agents.Extractive;

public sealed class ExtractiveAgentOptions
{
    /// <summary>Average cosine similarity at which phrase clusters stop merging (layer 1 and new layer-2 dimensions).</summary>
    public double ClusterSimilarity { get; set; } = 0.5;

    /// <summary>Similarity a sub-category phrase needs to count as support for a parent dimension (layer 2).</summary>
    public double RefinementSimilarity { get; set; } = 0.5;

    /// <summary>Similarity an item span needs to become evidence for a dimension (layer 3).</summary>
    public double EvidenceSimilarity { get; set; } = 0.45;

    public int MaxDimensions { get; set; } = 8;

    /// <summary>Items (or queries) a phrase must occur in to be considered at category level.</summary>
    public int MinSupport { get; set; } = 2;

    public int MaxPhrases { get; set; } = 160;
    public int MaxSpansPerItem { get; set; } = 96;
    public int MaxEvidencePerDimension { get; set; } = 2;
    public int MaxKeywordsPerDimension { get; set; } = 6;
}
