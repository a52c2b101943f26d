using System.ComponentModel.DataAnnotations;

namespace ReaSeq.Models.Ctr;

/// <summary>
/// Shape and pathways of the CTR model (paper §2.2, §4.2.1). Each pathway can be switched on and off, which is how
/// the Table 3 ablation (base; + retrieval; + compression; + compression + SID; all) is run.
/// </summary>
public sealed class CtrModelOptions : IValidatableObject
{
    /// <summary>Base: DIN target attention over the knowledge vectors of the sequence (§4.2.1's simplified base).</summary>
    public bool UseBase { get; set; } = true;

    /// <summary>Retrieval (§2.2.1): GSU top-K by cosine of knowledge vectors, ESU multi-head target attention.</summary>
    public bool UseRetrieval { get; set; } = true;

    /// <summary>Compression (§2.2.2): interest anchors cross-attend over the full sequence, then target-aware extraction.</summary>
    public bool UseCompression { get; set; } = true;

    /// <summary>SID (§2.2.2, Appendix C): per-level semantic-id embeddings added to every item representation.</summary>
    public bool UseSid { get; set; } = true;

    /// <summary>Width of the knowledge vectors (§2.1).</summary>
    [Range(1, 65536)] public int ItemVectorDim { get; set; } = 384;

    /// <summary>Width every item, anchor and pathway output is projected to.</summary>
    [Range(2, 4096)] public int HiddenDim { get; set; } = 64;

    /// <summary>ESU attention heads; must divide <see cref="HiddenDim"/>.</summary>
    [Range(1, 64)] public int Heads { get; set; } = 4;

    /// <summary>K of the GSU's top-K (§2.2.1).</summary>
    [Range(1, 4096)] public int RetrievalTopK { get; set; } = 16;

    /// <summary>Learnable interest anchors of the compression pathway (§2.2.2).</summary>
    [Range(1, 1024)] public int InterestAnchors { get; set; } = 8;

    /// <summary>Hidden width of DIN's attention MLP.</summary>
    [Range(1, 4096)] public int AttentionHiddenDim { get; set; } = 32;

    /// <summary>Semantic-id levels embedded (extra levels of a longer id are ignored, missing ones are padding).</summary>
    [Range(1, 16)] public int SidLevels { get; set; } = 4;

    /// <summary>Codes per semantic-id level; a larger code wraps around.</summary>
    [Range(1, 1 << 20)] public int SidCodebookSize { get; set; } = 256;

    /// <summary>Hidden widths of the head MLP (§2.2.2 Eq. 4).</summary>
    public int[] HeadHiddenDims { get; set; } = [128, 64];

    /// <summary>Longest history fed to the model; older items are dropped (§4.2.1 truncates at 500).</summary>
    [Range(1, 100_000)] public int MaxHistory { get; set; } = 200;

    /// <summary>
    /// Newest positions the base pathway's DIN target attention reads; the retrieval (GSU/ESU) and compression pathways
    /// read the whole <see cref="MaxHistory"/>. §2.2 exists because target attention over every position of a long
    /// sequence costs too much online: DIN scores every (candidate, distinct item) pair, so at serving its cost grows with
    /// this window, while the GSU's top-K keeps long-range relevance at K positions (as in SIM's short-term + long-term split).
    /// </summary>
    [Range(1, 100_000)] public int DinHistory { get; set; } = 50;

    [Range(1e-9, 10.0)] public double LearningRate { get; set; } = 0.002;

    [Range(0.0, 1.0)] public double WeightDecay { get; set; }

    /// <summary>auto, cpu, cuda or cuda:N (see <see cref="Training.TorchDevice"/>).</summary>
    [Required(AllowEmptyStrings = false)] public string Device { get; set; } = "cpu";

    public CtrModelOptions Clone()
    {
        var copy = (CtrModelOptions)MemberwiseClone();
        copy.HeadHiddenDims = [.. HeadHiddenDims];
        return copy;
    }

    /// <summary>The short name of the enabled pathways, e.g. "base+retrieval+compression+sid".</summary>
    public string PathwayName =>
        string.Join('+', new[] { (UseBase, "base"), (UseRetrieval, "retrieval"), (UseCompression, "compression"), (UseSid, "sid") }
            .Where(p => p.Item1).Select(p => p.Item2));

    /// <summary>Throws <see cref="ValidationException"/> naming the first broken setting.</summary>
    public void Validate() => Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Heads > 0 && HiddenDim % Heads != 0)
            yield return new ValidationResult($"Heads ({Heads}) must divide HiddenDim ({HiddenDim}).", [nameof(Heads)]);
        if (HeadHiddenDims is null || HeadHiddenDims.Any(d => d <= 0))
            yield return new ValidationResult("HeadHiddenDims must be positive widths.", [nameof(HeadHiddenDims)]);
        if (!UseBase && !UseRetrieval && !UseCompression)
        {
            yield return new ValidationResult(
                "At least one sequence pathway (UseBase, UseRetrieval, UseCompression) must be on.", [nameof(UseBase)]);
        }
    }
}
