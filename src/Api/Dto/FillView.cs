namespace ReaSeq.Api.Dto;

/// <summary>A filled position (paper §3.2) with the real items nearest to its vector; the vector only on request.</summary>
public sealed record FillView(int Position, IReadOnlyList<NearestView> Nearest, IReadOnlyList<float>? Vector);
