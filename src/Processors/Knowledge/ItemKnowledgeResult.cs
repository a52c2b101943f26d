using ReaSeq.Processors.Knowledge.Agents;

namespace ReaSeq.Processors.Knowledge;

/// <summary>Everything layer 3 and the encoding produced for one item — the payload of ItemKnowledge.</summary>
public sealed record ItemKnowledgeResult(
    string ItemId,
    CategoryPath Category,
    // True when the item came without a category and the classifier assigned Category.
    bool CategoryInferred,
    double? ClassificationScore,
    IReadOnlyList<DimensionKnowledge> DemandDimensions,
    IReadOnlyList<DimensionKnowledge> AttributeDimensions,
    float[] Vector,
    string EncoderModel,
    string ContentHash,
    string PromptVersion,
    string BackendName,
    string TaxonomyVersion,
    int RejectedEvidence);

public sealed record CategoryAssignment(CategoryPath Category, double Score);
