namespace ReaSeq.Api.Dto;

/// <summary>GET /v1/items/{id}/knowledge: dimensions with evidence per perspective, semantic id and versions (paper §2.1).</summary>
public sealed record KnowledgeView(string ItemId, string Category, bool CategoryAssigned, IReadOnlyList<DimensionView> Demand,
    IReadOnlyList<DimensionView> Attribute, IReadOnlyList<int> SemanticId, int VectorDimension, IReadOnlyList<float>? Vector,
    KnowledgeVersions Versions, string ContentHash, long TsMs);
