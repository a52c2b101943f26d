namespace ReaSeq.Api.Features;

/// <summary>One item_knowledge row as the knowledge endpoint shows it.</summary>
public sealed record KnowledgeRow(string ItemId, string Category, bool CategoryAssigned, IReadOnlyList<DimensionRow> Demand,
    IReadOnlyList<DimensionRow> Attribute, float[] Vector, int[] SemanticId, string SemanticIdVersion, string TaxonomyVersion,
    string PromptVersion, string Backend, string Encoder, string ContentHash, long TsMs);
