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

    /// <summary>
    /// A primary category's taxonomy is rebuilt once the category holds this many times the items it was built from
    /// (issue 8 E17); 0 never rebuilds.
    /// </summary>
    public double RebuildGrowthFactor { get; set; } = 2;

    /// <summary>...and at least this many more items, so tiny categories are not rebuilt at every new item.</summary>
    public int RebuildMinNewItems { get; set; } = 20;

    /// <summary>Least time between two looks at one category's growth (a count query).</summary>
    public int RebuildCheckMs { get; set; } = 30_000;

    public void Validate()
    {
        if (RebuildGrowthFactor is not 0 and < 1 || !double.IsFinite(RebuildGrowthFactor) || RebuildMinNewItems < 0 || RebuildCheckMs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(KnowledgeReasonerOptions),
                "RebuildGrowthFactor must be 0 (never) or at least 1; RebuildMinNewItems and RebuildCheckMs must not be negative.");
        }
        if (MaxCorpusItems < 1 || RefinementSampleSize < 1 || ClassificationSampleSize < 1)
            throw new ArgumentOutOfRangeException(nameof(KnowledgeReasonerOptions), "Sample sizes must be positive.");
    }
}
