namespace ReaSeq.Models.Ctr;

/// <summary>One position of the sequence a CTR model sees: an observed click or a GBR fill.</summary>
public readonly record struct SequenceSlot(float[] Vector, int[]? SemanticId, bool IsFill);
