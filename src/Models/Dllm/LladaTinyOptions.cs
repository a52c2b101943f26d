using System.ComponentModel.DataAnnotations;

namespace ReaSeq.Models.Dllm;

/// <summary>
/// Shape and training settings of the tiny LLaDA behaviour-reasoning model. Defaults follow paper §4.2.1:
/// 4 layers, width 128, 8 heads, learnable positions, temperature 0.07, Adam at 0.0075 with linear warm-up and
/// cosine annealing. Input and output widths are the frozen item knowledge vectors' width (384).
/// </summary>
public sealed class LladaTinyOptions : IValidatableObject
{
    [Range(1, 64)] public int Layers { get; set; } = 4;

    /// <summary>Hidden width d of the encoder (the adapter maps item vectors to it).</summary>
    [Range(2, 8192)] public int ModelDim { get; set; } = 128;

    /// <summary>Attention heads; must divide <see cref="ModelDim"/>.</summary>
    [Range(1, 256)] public int Heads { get; set; } = 8;

    /// <summary>Width of the feed-forward sublayer; 0 means 4 × <see cref="ModelDim"/>.</summary>
    [Range(0, 65536)] public int FeedForwardDim { get; set; }

    /// <summary>Longest sequence; there is one learnable positional embedding per position (§4.2.1).</summary>
    [Range(1, 65536)] public int MaxLength { get; set; } = 200;

    /// <summary>Width of the frozen item knowledge vectors fed in and of the predictions coming out.</summary>
    [Range(1, 65536)] public int ItemVectorDim { get; set; } = 384;

    /// <summary>Dropout on the input embeddings and on both residual branches of every layer (training only).</summary>
    [Range(0.0, 0.9)] public double Dropout { get; set; } = 0.1;

    /// <summary>
    /// Dropout on the attention probabilities (training only). Off by default: the paper (§4.2.1) names no dropout,
    /// LLaDA's released configuration sets none, and on a CPU it is the most expensive part of a training step, since
    /// it draws a random number per (query, key) pair of every head: B × heads × L² per layer (see `make bench`).
    /// </summary>
    [Range(0.0, 0.9)] public double AttentionDropout { get; set; }

    /// <summary>Softmax temperature of Eq. 7 and of the IB-PPL metric (§4.2.1: 0.07).</summary>
    [Range(1e-4, 100.0)] public double Temperature { get; set; } = 0.07;

    /// <summary>Peak Adam learning rate (§4.2.1: 0.0075).</summary>
    [Range(1e-9, 10.0)] public double LearningRate { get; set; } = 0.0075;

    /// <summary>Steps of linear warm-up from near zero to <see cref="LearningRate"/>.</summary>
    [Range(0, int.MaxValue)] public int WarmupSteps { get; set; } = 500;

    /// <summary>Step at which cosine annealing reaches zero; the rate stays there afterwards.</summary>
    [Range(1, int.MaxValue)] public int TotalSteps { get; set; } = 20_000;

    public LladaLoss Loss { get; set; } = LladaLoss.SampledSoftmax;

    public UnmaskedLabelInput UnmaskedLabels { get; set; } = UnmaskedLabelInput.ObservedItem;

    /// <summary>
    /// Whether dynamic masking (§3.2.2) also draws observed items, not only the self-supervised labeled positions.
    /// LLaDA's forward process masks every token of a sequence with probability t; drawing observed items too turns
    /// every window into training signal for "which item sits between these", the very question a [FILL] at an
    /// unlogged gap asks (§3.2.3), and adds their targets to Eq. 7's in-batch candidates. Off by default, so the
    /// Table 5 rows train, as the paper's, on the labeled positions only.
    /// </summary>
    public bool MaskObservedItems { get; set; }

    /// <summary>auto, cpu, cuda or cuda:N (see <see cref="Training.TorchDevice"/>).</summary>
    [Required(AllowEmptyStrings = false)] public string Device { get; set; } = "auto";

    public LladaTinyOptions Clone() => (LladaTinyOptions)MemberwiseClone();

    /// <summary>The feed-forward width actually used.</summary>
    public int EffectiveFeedForwardDim => FeedForwardDim == 0 ? 4 * ModelDim : FeedForwardDim;

    /// <summary>Throws <see cref="ValidationException"/> naming the first broken setting.</summary>
    public void Validate() => Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Heads > 0 && ModelDim % Heads != 0)
        {
            yield return new ValidationResult(
                $"{nameof(ModelDim)} ({ModelDim}) must be divisible by {nameof(Heads)} ({Heads}).", [nameof(ModelDim), nameof(Heads)]);
        }

        if (WarmupSteps > TotalSteps)
        {
            yield return new ValidationResult(
                $"{nameof(WarmupSteps)} ({WarmupSteps}) must not exceed {nameof(TotalSteps)} ({TotalSteps}).", [nameof(WarmupSteps)]);
        }

        if (!Enum.IsDefined(Loss))
            yield return new ValidationResult($"Unknown {nameof(Loss)} {(int)Loss}.", [nameof(Loss)]);
        if (!Enum.IsDefined(UnmaskedLabels))
            yield return new ValidationResult($"Unknown {nameof(UnmaskedLabels)} {(int)UnmaskedLabels}.", [nameof(UnmaskedLabels)]);
    }
}
