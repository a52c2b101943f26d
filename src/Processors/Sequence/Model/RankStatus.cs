namespace ReaSeq.Processors.Sequence.Model;

/// <summary>
/// Why a transition has (or lacks) a finite rank under the collaborative model.
/// Every status other than <see cref="Ranked"/> counts as "rank beyond κ" for the RANK rule.
/// </summary>
public enum RankStatus : byte
{
    /// <summary>The observed item is among the candidates the context scores; <see cref="Prediction.Rank"/> is finite.</summary>
    Ranked = 0,
    /// <summary>The model has never seen the observed item.</summary>
    UnknownItem = 1,
    /// <summary>No context item has any collaborative neighbour, so the model cannot vouch for the transition.</summary>
    NoContextEvidence = 2,
    /// <summary>The item is known but the context gives it no score: it is outside the candidate list.</summary>
    OutsideCandidates = 3,
}
