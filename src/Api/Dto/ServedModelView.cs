namespace ReaSeq.Api.Dto;

/// <summary>The model version this replica scores with, and since when.</summary>
public sealed record ServedModelView(string Version, long Seq, DateTimeOffset LoadedAt, string Pathways);
