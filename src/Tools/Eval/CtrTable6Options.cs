namespace ReaSeq.Tools.Eval;

/// <summary>
/// Sizes of paper Table 6 (§4.2.4) inside `reaseq-tools eval ctr`. The tiny LLaDA is cut below the paper's shape
/// (§4.2.1: 4 layers, d 128) to 2 layers of d 64 so that the whole `eval ctr` stays within about 15 minutes on a shared
/// 2-core CPU; its training otherwise follows `eval gbr` (Eq. 7, dynamic masking, warm-up + cosine).
/// </summary>
public sealed class CtrTable6Options
{
    public int Layers { get; set; } = 2;

    public int ModelDim { get; set; } = 64;

    public int Heads { get; set; } = 4;

    public int Epochs { get; set; } = 2;

    public int BatchSize { get; set; } = 64;

    /// <summary>Train each DLLM on at most this many windows of the training period (a seeded sample; 0: all).</summary>
    public int MaxTrainWindows { get; set; } = 6_400;

    public int WarmupSteps { get; set; } = 20;

    public double LearningRate { get; set; } = 0.0075;

    public int Seed { get; set; } = 20_251_202;

    /// <summary>Leave Table 6 out (a quicker Table 3 alone).</summary>
    public bool Skip { get; set; }
}
