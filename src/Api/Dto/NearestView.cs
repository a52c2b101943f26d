namespace ReaSeq.Api.Dto;

/// <summary>An item and its cosine similarity to a query vector.</summary>
public sealed record NearestView(string ItemId, float Score);
