namespace ReaSeq.Models.Ctr;

/// <summary>One labeled training example: a point-in-time user, a shown candidate, and whether it was clicked.</summary>
public sealed record CtrExample(CtrUserFeatures User, CtrCandidate Candidate, float Label);
