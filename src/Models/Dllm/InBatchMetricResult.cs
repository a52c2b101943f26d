namespace ReaSeq.Models.Dllm;

/// <summary>
/// IB-PPL and IB-ACC of paper §4.2.1 (Eq. 8–9): each is computed per sample (sequence) over its scored tokens,
/// then averaged arithmetically over the samples that have at least one scored token.
/// Both are NaN when <see cref="Samples"/> is 0.
/// </summary>
public sealed record InBatchMetricResult(double Perplexity, double Accuracy, int Samples, int Tokens)
{
    public static InBatchMetricResult Empty { get; } = new(double.NaN, double.NaN, 0, 0);
}
