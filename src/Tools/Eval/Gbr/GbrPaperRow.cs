namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>One row of paper Table 5 as printed: [FILL] ratio, then IB-PPL / IB-ACC on [MASK] and on [FILL] (percent where %).</summary>
public sealed record GbrPaperRow(string Name, string Location, string Loss, double FillRatioPercent,
    double MaskPerplexity, double MaskAccuracyPercent, double FillPerplexity, double FillAccuracyPercent)
{
    public static IReadOnlyList<GbrPaperRow> Table5 { get; } =
    [
        new("GBR-T-0", "TD", "Eq. 7", 13.74, 11.03, 57.55, 6.09, 66.41),
        new("GBR-C-0", "CD", "Eq. 7", 30.63, 5.87, 67.46, 4.75, 75.8),
        new("GBR-TC-0", "TDCD", "Eq. 7", 31.94, 7.36, 62.88, 5.08, 72.23),
        new("GBR-C-1", "CD", "cos", 30.63, 530.33, 0.5, 18.17, 20.01),
        new("GBR-C-2", "CD", "euc", 30.63, 795.08, 0.3, 27.12, 14.8),
    ];
}
