namespace ReaSeq.Api.Dto;

/// <summary>GET /v1/users/{id}/sequence: the observed window, its gaps with reasons, and the fills with nearest items.</summary>
public sealed record SequenceView(string UserId, int HistoryLength, long? SequenceVersion, string? Variant, IReadOnlyList<WindowEntryView> Window,
    IReadOnlyList<GapView> Gaps, string? FillModelVersion, IReadOnlyList<FillView> Fills);
