namespace ReaSeq.Models.Ctr;

/// <summary>
/// A trained CTR model ready to rank. Safe for concurrent callers; scoring never trains (inference under no_grad).
/// </summary>
public interface ICtrScorer : IDisposable
{
    /// <summary>The registry version the weights came from.</summary>
    string Version { get; }

    /// <summary>
    /// Click probabilities in [0, 1], one per candidate, in the candidates' order, from the model's full forward pass
    /// (the training path: the user's sequence is processed once per candidate row).
    /// </summary>
    float[] Score(CtrUserFeatures user, IReadOnlyList<CtrCandidate> candidates);

    /// <summary>
    /// The user step of the split path (<see cref="CtrModel.EncodeUser"/>): the user-only computation once, to be cached
    /// and reused by <see cref="Score(CtrUserState, IReadOnlyList{CtrCandidate})"/> for as long as the user's features
    /// and this scorer's version stay the same. The caller owns (disposes) the state.
    /// </summary>
    CtrUserState EncodeUser(CtrUserFeatures user);

    /// <summary>
    /// The candidate step of the split path: the same probabilities as <see cref="Score(CtrUserFeatures, IReadOnlyList{CtrCandidate})"/>
    /// (to float rounding) for the user <paramref name="user"/> was encoded from, every candidate in one batch.
    /// </summary>
    float[] Score(CtrUserState user, IReadOnlyList<CtrCandidate> candidates);
}
