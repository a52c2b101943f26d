namespace ReaSeq.Api.Dto;

/// <summary>One knowledge dimension: label, keywords, the evidence spans from the item's metadata, and the analysis.</summary>
public sealed record DimensionView(string Label, IReadOnlyList<string> Keywords, IReadOnlyList<string> Evidence, string Analysis);
