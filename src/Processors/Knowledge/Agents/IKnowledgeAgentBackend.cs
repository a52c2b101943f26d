using ReaSeq.Processors.Knowledge.Taxonomy;

namespace ReaSeq.Processors.Knowledge.Agents;

/// <summary>Layer 1, demand stream: search queries of the primary category when there are any, else its items' text.</summary>
public sealed record DemandExtractionInput(CategoryPath Category, IReadOnlyList<string> Queries, IReadOnlyList<KnowledgeItem> Items);

/// <summary>Layer 1, attribute stream: the merchant attribute key-values across the category's items.</summary>
public sealed record AttributeExtractionInput(CategoryPath Category, IReadOnlyList<KnowledgeItem> Items);

/// <summary>Layer 2: specialise the parent's taxonomy (one perspective) to a sub-category from a sample of its items.</summary>
public sealed record RefinementInput(DimensionTaxonomy Parent, CategoryPath SubCategory, IReadOnlyList<KnowledgeItem> SampleItems);

/// <summary>Layer 3: describe one item along every dimension of both perspectives of its category.</summary>
public sealed record ItemAnalysisInput(KnowledgeItem Item, CategoryTaxonomies Taxonomies);

/// <summary>One dimension instantiated for one item: verbatim evidence, an analysis and distilled keywords.</summary>
public sealed record DimensionKnowledge(
    Perspective Perspective,
    string Label,
    IReadOnlyList<string> Evidence,
    string Analysis,
    IReadOnlyList<string> Keywords);

public sealed record ItemAnalysis(IReadOnlyList<DimensionKnowledge> Dimensions);

/// <summary>
/// The agents of §2.1.1 behind one contract, so a generative model, a local model or the extractive fallback
/// are interchangeable. Implementations validate their own output format; grounding (the evidence guard) is
/// applied by <see cref="KnowledgeReasoner"/> for every backend alike.
/// </summary>
public interface IKnowledgeAgentBackend
{
    /// <summary>Stable backend name recorded with every output and used in cache keys, e.g. "extractive".</summary>
    string Name { get; }

    /// <summary>Version of the prompt set (the v1 agent contract) the outputs follow; part of cache keys.</summary>
    string PromptVersion { get; }

    Task<DimensionTaxonomy> ExtractDemandTaxonomyAsync(DemandExtractionInput input, CancellationToken cancellationToken);

    Task<DimensionTaxonomy> ExtractAttributeTaxonomyAsync(AttributeExtractionInput input, CancellationToken cancellationToken);

    Task<DimensionTaxonomy> RefineTaxonomyAsync(RefinementInput input, CancellationToken cancellationToken);

    Task<ItemAnalysis> AnalyzeItemAsync(ItemAnalysisInput input, CancellationToken cancellationToken);
}
