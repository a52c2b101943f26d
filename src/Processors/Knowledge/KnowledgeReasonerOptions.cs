using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts.Validation;

namespace ReaSeq.Processors.Knowledge;

public sealed class KnowledgeReasonerOptions : IValidatableObject
{
    public const string Section = "Knowledge:Reasoner";

    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);

    /// <summary>Items (a deterministic sample) shown to the layer-1 agents per primary category.</summary>
    public int MaxCorpusItems { get; set; } = 400;

    /// <summary>Items shown to a layer-2 refinement agent per sub-category.</summary>
    public int RefinementSampleSize { get; set; } = 40;

    /// <summary>Items per category averaged into the centroid used to classify uncategorised items.</summary>
    public int ClassificationSampleSize { get; set; } = 64;

    public void Validate()
    {
        if (MaxCorpusItems < 1 || RefinementSampleSize < 1 || ClassificationSampleSize < 1)
            throw new ArgumentOutOfRangeException(nameof(KnowledgeReasonerOptions), "Sample sizes must be positive.");
    }
}
