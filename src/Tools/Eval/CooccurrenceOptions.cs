namespace ReaSeq.Tools.Eval;

public sealed class CooccurrenceOptions
{
    /// <summary>Dimensions kept from the truncated SVD of the PPMI matrix.</summary>
    public int Dimension { get; set; } = 128;

    /// <summary>Extra random directions and power iterations of the randomized SVD (accuracy of the top dimensions).</summary>
    public int Oversampling { get; set; } = 16;
    public int PowerIterations { get; set; } = 3;
    public int Seed { get; set; } = 17;
}
