namespace ReaSeq.Api.Dto;

/// <summary>A detected gap before window position <see cref="Position"/> and why (TD, CD, RANK; paper §3.1).</summary>
public sealed record GapView(int Position, IReadOnlyList<string> Reasons, long DeltaMs, long ThresholdMs, string PrevCategory, string NextCategory, int Rank);
