using static TorchSharp.torch;

namespace ReaSeq.Models.Ctr;

/// <summary>
/// The base pathway's part of a <see cref="CtrUserState"/>: DIN's first layer W·[q, k, q − k, q ⊙ k] + b rearranged for
/// the split scoring path (see CtrModel's DinCandidates) — <paramref name="QueryT"/> = (W_q + W_d)ᵀ [h, a],
/// <paramref name="KeyTerm"/> = (W_k − W_d) [a, 1, h], <paramref name="ProductWeight"/> = W_p [a, 1, h] — and the newest
/// <see cref="CtrModelOptions.DinHistory"/> positions DIN reads: <paramref name="DistinctRows"/> [R, h] the representation
/// of each distinct item among them once (DIN scores a position from its item alone), <paramref name="Positions"/> [W]
/// each position's index into them, <paramref name="Sequence"/> [W, h], <paramref name="Mask"/> [W] bool and
/// <paramref name="MaskFloat"/> [W] (false / 0 at padding), and whether any of them is padding. The user state owns the tensors.
/// </summary>
internal sealed record CtrDinState(Tensor QueryT, Tensor KeyTerm, Tensor ProductWeight, Tensor DistinctRows, Tensor Positions,
    Tensor Sequence, Tensor Mask, Tensor MaskFloat, bool HasPadding)
{
    /// <summary>Positions DIN reads (W).</summary>
    public long Window => Positions.shape[0];

    public IEnumerable<Tensor> Tensors => [QueryT, KeyTerm, ProductWeight, DistinctRows, Positions, Sequence, Mask, MaskFloat];
}
