namespace ReaSeq.Api.Dto;

/// <summary>A candidate's CTR and how it was scored.</summary>
/// <param name="ItemId"></param>
/// <param name="Ctr"></param>
/// <param name="Status">"scored" (knowledge vector and semantic id), "content_only" (in the catalog, no knowledge yet:
/// scored from its category and price alone) or "unknown_item" (neither: no CTR).</param>
public sealed record ScoredCandidate(string ItemId, float? Ctr, string Status);
