using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts.Validation;
using ReaSeq.Models.SemanticIds;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>Configuration section "Knowledge:SemanticIds": when and how the RQ-VAE tokenizer is (re)trained.</summary>
public sealed class SemanticIdTrainingOptions : IValidatableObject
{
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);

    public const string Section = "Knowledge:SemanticIds";

    /// <summary>Off: no training and no ids (an id model trained elsewhere can still be loaded from <see cref="ModelDirectory"/>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Knowledge vectors needed before the first model is trained.</summary>
    [Range(2, int.MaxValue)] public int MinItemsForTraining { get; set; } = 256;

    /// <summary>New knowledge rows since the last training that trigger a retraining.</summary>
    [Range(1, int.MaxValue)] public int RetrainEveryItems { get; set; } = 2_000;

    /// <summary>How often the trainer looks at the item count (and re-publishes items left with an outdated id).</summary>
    [Range(50, 3_600_000)] public int CheckIntervalMs { get; set; } = 5_000;

    /// <summary>Items re-published per transaction after a model change.</summary>
    [Range(1, 100_000)] public int RepublishChunk { get; set; } = 500;

    /// <summary>Models are saved here as &lt;version&gt;.pt (versions read "rqvae-LxK-hash"), with current.json naming the live one.</summary>
    public string ModelDirectory { get; set; } = System.IO.Path.Combine(".state", "models");

    public int Levels { get; set; } = 3;
    public int CodebookSize { get; set; } = 256;
    public int LatentDim { get; set; } = 32;
    public int Epochs { get; set; } = 20;
    public int BatchSize { get; set; } = 256;
    public double LearningRate { get; set; } = 3e-3;
    public int Seed { get; set; } = 42;
    public string Device { get; set; } = "auto";

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
    };

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelDirectory)) throw new ArgumentException($"{Section}:ModelDirectory must be set.");
        ToRqVaeOptions().Validate();
    }
}
