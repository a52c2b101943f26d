using ReaSeq.Models.Dllm;

namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>
/// One model input: a run of a user's consecutive events with [FILL] tokens inserted at a variant's gaps.
/// Per position: <see cref="Items"/> is the item's row in the vector table (-1 for an unlabeled [FILL]),
/// <see cref="Kinds"/> its role, <see cref="Events"/> the index in the user's event list of the event there (for a
/// [FILL]: of the event it precedes), and <see cref="EvalMask"/> whether evaluation shows it as [MASK].
/// </summary>
public sealed record GbrWindow(string UserId, int[] Items, PositionKind[] Kinds, int[] Events, bool[] EvalMask)
{
    public int Length => Kinds.Length;

    public int Fills => Kinds.Count(k => k == PositionKind.UnlabeledFill);

    public int Observed => Kinds.Count(k => k is PositionKind.Observed or PositionKind.LabeledFill);
}
