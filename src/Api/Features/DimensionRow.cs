namespace ReaSeq.Api.Features;

/// <summary>One knowledge dimension as stored (jsonb written by the knowledge role).</summary>
public sealed record DimensionRow(string Label, List<string> Keywords, List<string> Evidence, string Analysis);
