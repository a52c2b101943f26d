namespace ReaSeq.Api.Dto;

/// <summary>GET /v1/items/{id}/similar: the k items nearest by knowledge vector (cosine), best first.</summary>
public sealed record SimilarView(string ItemId, int K, IReadOnlyList<SimilarItemView> Items);
