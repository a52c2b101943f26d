namespace ReaSeq.Processors.Sequence.Model;

/// <summary>
/// Why a transition has (or lacks) a finite rank under the collaborative model. Without evidence
/// (<see cref="UnknownItem"/>, <see cref="NoContextEvidence"/>) the RANK rule makes no decision.
/// </summary>
public enum RankStatus : byte
{
    /// <summary>The observed item is among the candidates the context scores; <see cref="Prediction.Rank"/> is finite.</summary>
    Ranked = 0,
    /// <summary>The model has never seen the observed item: no evidence, no RANK decision.</summary>
    UnknownItem = 1,
    /// <summary>No context item has any collaborative neighbour: no evidence, no RANK decision.</summary>
    NoContextEvidence = 2,
    /// <summary>
    /// The item is known but the context gives it no score: every candidate scores above it, so its rank is
    /// 1 + number of candidates (exact under the model, ties with the other unscored items optimistic).
    /// </summary>
    OutsideCandidates = 3,
}
