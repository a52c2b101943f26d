namespace ReaSeq.Processors.Sequence;

/// <summary>An immutable copy of a user's window (what the sequence-gaps topic carries).</summary>
/// <param name="UserId"></param>
/// <param name="Variant"></param>
/// <param name="Offset">Absolute position of Window[0] in the user's whole accepted sequence.</param>
/// <param name="LastTimestampMs"></param>
/// <param name="Window"></param>
/// <param name="GapPositions">Window positions i with a gap between Window[i−1] and Window[i].</param>
/// <param name="LabeledPositions">Window positions that are self-supervised labeled positions.</param>
public sealed record WindowSnapshot(
    string UserId,
    DetectionVariant Variant,
    long Offset,
    long LastTimestampMs,
    IReadOnlyList<WindowEntry> Window,
    IReadOnlyList<int> GapPositions,
    IReadOnlyList<int> LabeledPositions);
