using ReaSeq.Api.Features;
using ReaSeq.Models.Ctr;

namespace ReaSeq.Api.Scoring;

/// <summary>A score request's model inputs: the user side once, the scorable candidates, and each asked candidate's status.</summary>
public sealed record PreparedRequest(UserFeatures User, CtrUserFeatures Features, IReadOnlyList<CtrCandidate> Candidates,
    IReadOnlyList<ItemFeatures> Items, IReadOnlyList<string> Statuses);
