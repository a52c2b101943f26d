namespace ReaSeq.Api.Dto;

/// <summary>One CTR per candidate (same order as asked), all from the one model version named here.</summary>
/// <param name="ModelVersion"></param>
/// <param name="UserId"></param>
/// <param name="UserStatus">"known", or "cold_start" when the platform has no history for the user.</param>
/// <param name="HistoryLength"></param>
/// <param name="Fills"></param>
/// <param name="Scores"></param>
public sealed record ScoreResponse(string ModelVersion, string UserId, string UserStatus, int HistoryLength, int Fills, IReadOnlyList<ScoredCandidate> Scores);
