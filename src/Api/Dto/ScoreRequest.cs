namespace ReaSeq.Api.Dto;

/// <summary>POST /v1/score body: the user, up to Api:MaxCandidates candidate item ids, and the request context.</summary>
public sealed class ScoreRequest
{
    public string? UserId { get; set; }

    public List<string>? Candidates { get; set; }

    public Dictionary<string, string>? Context { get; set; }
}
