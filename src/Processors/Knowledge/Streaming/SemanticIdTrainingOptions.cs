using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts.Validation;
using ReaSeq.Models.SemanticIds;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>Configuration section "Knowledge:SemanticIds": when and how the RQ-VAE tokenizer is (re)trained.</summary>
public sealed class SemanticIdTrainingOptions : IValidatableObject
{
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);

    public const string Section = "Knowledge:SemanticIds";

    /// <summary>Off: this process trains no model (it still follows the deployment's current model, if one exists).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Knowledge vectors needed before the first model is trained: at least <see cref="KMeansMinPointsPerCode"/> per
    /// code (4 × 256 by default), so the k-means initialisation has enough vectors (Appendix C).
    /// </summary>
    [Range(2, int.MaxValue)] public int MinItemsForTraining { get; set; } = 1_024;

    /// <summary>New knowledge rows since the last training that trigger a retraining.</summary>
    [Range(1, int.MaxValue)] public int RetrainEveryItems { get; set; } = 2_000;

    /// <summary>How often the trainer looks at the item count (and re-publishes items left with an outdated id).</summary>
    [Range(50, 3_600_000)] public int CheckIntervalMs { get; set; } = 5_000;

    /// <summary>Items re-published per transaction after a model change.</summary>
    [Range(1, 100_000)] public int RepublishChunk { get; set; } = 500;

    /// <summary>
    /// Append TIGER's final de-duplication level: an item's rank among the items sharing its RQ-VAE codes, kept in
    /// PostgreSQL, so every full id names one item.
    /// </summary>
    public bool DedupLevel { get; set; } = true;

    public int Levels { get; set; } = 3;
    public int CodebookSize { get; set; } = 256;
    public int LatentDim { get; set; } = 32;
    public int Epochs { get; set; } = 20;
    public int BatchSize { get; set; } = 256;
    public double LearningRate { get; set; } = 3e-3;
    public int Seed { get; set; } = 42;
    public string Device { get; set; } = "auto";

    /// <summary>A code no item chose for this many epochs in a row is re-seeded (0: never).</summary>
    public int DeadCodeResetEpochs { get; set; } = 1;

    public int KMeansMinPointsPerCode { get; set; } = KMeans.DefaultMinPointsPerCode;

    public RqVaeOptions ToRqVaeOptions() => new()
    {
        Levels = Levels,
        CodebookSize = CodebookSize,
        LatentDim = LatentDim,
        Epochs = Epochs,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        Seed = Seed,
        Device = Device,
        DeadCodeResetEpochs = DeadCodeResetEpochs,
        KMeansMinPointsPerCode = KMeansMinPointsPerCode,
    };

    public void Validate()
    {
        var rqvae = ToRqVaeOptions();
        rqvae.Validate();
        if (MinItemsForTraining < rqvae.MinTrainingItems)
        {
            throw new ArgumentException($"{Section}:MinItemsForTraining ({MinItemsForTraining}) must be at least {nameof(KMeansMinPointsPerCode)} × " +
                                        $"{nameof(CodebookSize)} = {rqvae.MinTrainingItems}: k-means needs enough vectors per code.");
        }
    }
}
