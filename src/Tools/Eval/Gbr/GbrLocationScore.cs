namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>
/// How well a gap variant locates the withheld events: <see cref="Flagged"/> transitions it marks as gaps,
/// <see cref="TruePositions"/> transitions that really hide a withheld event, <see cref="Hits"/> both.
/// Precision and recall are NaN when their denominator is 0.
/// </summary>
public sealed record GbrLocationScore(string Variant, long Flagged, long TruePositions, long Hits)
{
    public double Precision => Flagged == 0 ? double.NaN : (double)Hits / Flagged;

    public double Recall => TruePositions == 0 ? double.NaN : (double)Hits / TruePositions;
}
