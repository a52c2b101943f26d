using static TorchSharp.torch;

namespace ReaSeq.Models.Ctr;

/// <summary>
/// DIN's first layer W·[q, k, q − k, q ⊙ k] + b rearranged for the split scoring path (see CtrModel's DinCandidates):
/// <paramref name="QueryT"/> = (W_q + W_d)ᵀ [h, a], <paramref name="KeyTerm"/> = (W_k − W_d) [a, 1, h] and
/// <paramref name="ProductWeight"/> = W_p [a, 1, h]. Held by a <see cref="CtrUserState"/>, which owns the tensors.
/// </summary>
internal sealed record CtrDinWeights(Tensor QueryT, Tensor KeyTerm, Tensor ProductWeight);
