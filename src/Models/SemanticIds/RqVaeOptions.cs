namespace ReaSeq.Models.SemanticIds;

/// <summary>Shape and training settings of the RQ-VAE item tokenizer (paper Appendix C).</summary>
public sealed class RqVaeOptions
{
    /// <summary>Width of the adapter's output, i.e. of every code vector.</summary>
    public int LatentDim { get; set; } = 32;

    /// <summary>Number of residual quantization layers = length of a semantic id.</summary>
    public int Levels { get; set; } = 3;

    /// <summary>Code vectors per layer = range of each id position.</summary>
    public int CodebookSize { get; set; } = 256;

    /// <summary>Hidden width of the MLP decoder; 0 makes the decoder a single linear layer.</summary>
    public int DecoderHiddenDim { get; set; } = 256;

    /// <summary>Weight of the commitment term that pulls encoder outputs towards their codes.</summary>
    public float Beta { get; set; } = 0.25f;

    public double LearningRate { get; set; } = 3e-3;

    public int Epochs { get; set; } = 20;

    public int BatchSize { get; set; } = 256;

    /// <summary>A code of the second or a deeper level that no training item chose for this many epochs in a row is
    /// re-seeded at the epoch's end from a badly served item's residual; 0 disables.</summary>
    public int DeadCodeResetEpochs { get; set; } = 1;

    /// <summary>Lloyd iterations of the k-means that initialises each codebook.</summary>
    public int KMeansIterations { get; set; } = 10;

    /// <summary>Items sampled for the k-means that initialises the codebooks (capped at the data size).</summary>
    public int KMeansInitSamples { get; set; } = 4096;

    /// <summary>
    /// The trainer needs at least this many items per code for the k-means initialisation (a codebook of 256 codes
    /// fitted on 256 items gives every item its own first-level code and leaves nothing for the deeper levels).
    /// </summary>
    public int KMeansMinPointsPerCode { get; set; } = KMeans.DefaultMinPointsPerCode;

    /// <summary>Fewest training items the trainer accepts: <see cref="KMeansMinPointsPerCode"/> × <see cref="CodebookSize"/>.</summary>
    public int MinTrainingItems => KMeansMinPointsPerCode * CodebookSize;

    public int Seed { get; set; } = 42;

    /// <summary>auto, cpu, cuda or cuda:N.</summary>
    public string Device { get; set; } = "auto";

    public RqVaeOptions Clone() => (RqVaeOptions)MemberwiseClone();

    public void Validate()
    {
        Positive(LatentDim, nameof(LatentDim));
        Positive(Levels, nameof(Levels));
        if (CodebookSize < 2) throw new ArgumentException($"{nameof(CodebookSize)} must be at least 2, got {CodebookSize}.");
        if (DecoderHiddenDim < 0) throw new ArgumentException($"{nameof(DecoderHiddenDim)} must be 0 or more, got {DecoderHiddenDim}.");
        if (!(Beta >= 0) || float.IsInfinity(Beta)) throw new ArgumentException($"{nameof(Beta)} must be a finite number >= 0, got {Beta}.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
            throw new ArgumentException($"{nameof(LearningRate)} must be a finite number > 0, got {LearningRate}.");
        Positive(Epochs, nameof(Epochs));
        Positive(BatchSize, nameof(BatchSize));
        if (DeadCodeResetEpochs < 0) throw new ArgumentException($"{nameof(DeadCodeResetEpochs)} must be 0 or more, got {DeadCodeResetEpochs}.");
        if (KMeansIterations < 0) throw new ArgumentException($"{nameof(KMeansIterations)} must be 0 or more, got {KMeansIterations}.");
        Positive(KMeansInitSamples, nameof(KMeansInitSamples));
        Positive(KMeansMinPointsPerCode, nameof(KMeansMinPointsPerCode));
        if (KMeansInitSamples < MinTrainingItems)
            throw new ArgumentException($"{nameof(KMeansInitSamples)} ({KMeansInitSamples}) must be at least {nameof(KMeansMinPointsPerCode)} × {nameof(CodebookSize)} ({MinTrainingItems}).");
        if (string.IsNullOrWhiteSpace(Device)) throw new ArgumentException($"{nameof(Device)} must be auto, cpu, cuda or cuda:N.");
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentException($"{name} must be greater than 0, got {value}.");
    }
}
