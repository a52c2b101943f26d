using ReaSeq.Processors.Sequence;

namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>
/// One observed event of a user after gap detection (paper §3.1, §3.2.1): <see cref="GapIn"/> names the variants under
/// which the transition into this event is a gap (a [FILL] goes right before it), <see cref="IsLabeled"/> whether
/// Δ &gt; θ made it a self-supervised labeled position.
/// </summary>
public readonly record struct GbrEvent(string EventId, string ItemId, long TsMs, DetectionVariantFlags GapIn, bool IsLabeled)
{
    public bool IsGap(DetectionVariant variant) => (GapIn & (DetectionVariantFlags)(1 << (int)variant)) != 0;
}
