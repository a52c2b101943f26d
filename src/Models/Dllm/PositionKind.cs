namespace ReaSeq.Models.Dllm;

/// <summary>
/// The role of one position in a training or inference sequence (paper §3.2.1), stored as int64 in
/// <see cref="LladaTiny.PositionKindsField"/>.
/// </summary>
public enum PositionKind : long
{
    /// <summary>Beyond the end of a shorter sequence; ignored by attention.</summary>
    Padding = 0,

    /// <summary>An observed item, fed through the adapter.</summary>
    Observed = 1,

    /// <summary>
    /// A self-supervised labeled position (Δ &gt; θ, §3.2.1): a [FILL] whose ground truth is the observed item,
    /// whose vector sits at this position of <see cref="LladaTiny.ItemVectorsField"/>. Dynamic masking turns some
    /// of these into [MASK] at each training step. At inference (§3.2.3) the observed item is shown.
    /// </summary>
    LabeledFill = 2,

    /// <summary>An unlabeled gap (a detected beyond-log position) with no ground truth; always [FILL].</summary>
    UnlabeledFill = 3,
}
