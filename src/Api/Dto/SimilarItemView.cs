namespace ReaSeq.Api.Dto;

/// <summary>A similar item, its cosine similarity and category.</summary>
public sealed record SimilarItemView(string ItemId, float Score, string Category);
