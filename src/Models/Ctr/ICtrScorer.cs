namespace ReaSeq.Models.Ctr;

/// <summary>
/// A trained CTR model ready to rank. Safe for concurrent callers; scoring never trains (inference under no_grad).
/// </summary>
public interface ICtrScorer : IDisposable
{
    /// <summary>The registry version the weights came from.</summary>
    string Version { get; }

    /// <summary>Click probabilities in [0, 1], one per candidate, in the candidates' order.</summary>
    float[] Score(CtrUserFeatures user, IReadOnlyList<CtrCandidate> candidates);
}
