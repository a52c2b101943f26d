using ReaSeq.Processors.Knowledge;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Agents.Extractive;
using ReaSeq.Processors.Knowledge.Taxonomy;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Knowledge;

/// <summary>What the extractive backend's clustering and matching must get right on realistic catalog data.</summary>
[Collection(EncoderCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class ExtractiveAgentBackendTests(EncoderFixture fixture)
{
    private readonly ExtractiveAgentBackend _backend = new(fixture.Encoder);
    private static readonly CategoryPath Apparel = CategoryPath.Of("Apparel");

    private static TaxonomyDimension DimensionWith(DimensionTaxonomy taxonomy, string member) =>
        taxonomy.Dimensions.Single(d => d.Members.Contains(member));

    [Fact]
    public async Task Merchant_keys_for_the_same_aspect_become_one_attribute_dimension()
    {
        var taxonomy = await _backend.ExtractAttributeTaxonomyAsync(new AttributeExtractionInput(Apparel, KnowledgeTestData.Apparel()), default);
        Assert.Same(DimensionWith(taxonomy, "colour"), DimensionWith(taxonomy, "color"));
        var material = DimensionWith(taxonomy, "material");
        Assert.Same(material, DimensionWith(taxonomy, "fabric"));
        Assert.Same(material, DimensionWith(taxonomy, "material composition"));
        Assert.NotSame(material, DimensionWith(taxonomy, "colour"));
        Assert.NotSame(material, DimensionWith(taxonomy, "fit"));
    }

    [Fact]
    public async Task Queries_are_consolidated_into_demand_dimensions()
    {
        var taxonomy = await _backend.ExtractDemandTaxonomyAsync(
            new DemandExtractionInput(Apparel, KnowledgeTestData.ApparelQueries(), KnowledgeTestData.Apparel()), default);
        Assert.Same(DimensionWith(taxonomy, "warm hoodie for winter"), DimensionWith(taxonomy, "warm winter hoodie"));
        Assert.InRange(taxonomy.Dimensions.Count, 2, 8);
        Assert.Contains("queries", taxonomy.Reasoning);
        // Every member is one of the user's own expressions.
        Assert.All(taxonomy.Dimensions.SelectMany(d => d.Members), m => Assert.Contains(m, KnowledgeTestData.ApparelQueries()));
    }

    [Fact]
    public async Task Online_retail_titles_without_attributes_still_give_two_distinct_views()
    {
        var items = KnowledgeTestData.OnlineRetail(40).Where(i => i.CategoryPath.Segments[0] == "Home").ToArray();
        Assert.True(items.Length >= 15, $"only {items.Length} Online Retail items matched");
        var home = CategoryPath.Of("Home");
        var demand = await _backend.ExtractDemandTaxonomyAsync(new DemandExtractionInput(home, [], items), default);
        var attribute = await _backend.ExtractAttributeTaxonomyAsync(new AttributeExtractionInput(home, items), default);
        Assert.NotEmpty(demand.Dimensions);
        Assert.NotEmpty(attribute.Dimensions);
        // Demand uses multi-word phrases, the attribute fallback single descriptive words.
        Assert.All(demand.Dimensions.SelectMany(d => d.Members), m => Assert.Contains(' ', m));
        Assert.All(attribute.Dimensions.SelectMany(d => d.Members), m => Assert.DoesNotContain(' ', m));
        Assert.Contains(attribute.Dimensions.SelectMany(d => d.Members), m => m is "white" or "red" or "pink");
    }

    [Fact]
    public async Task Refinement_keeps_supported_dimensions_and_drops_the_rest()
    {
        var items = KnowledgeTestData.Apparel();
        var parent = await _backend.ExtractAttributeTaxonomyAsync(new AttributeExtractionInput(Apparel, items), default);
        var hoodies = CategoryPath.Of("Apparel", "Tops", "Hoodies");
        var refined = await _backend.RefineTaxonomyAsync(new RefinementInput(parent, hoodies,
            items.Where(i => i.CategoryPath.StartsWith(hoodies)).ToArray()), default);

        var closure = refined.Dimensions.Single(d => d.Members.Contains("closure"));
        Assert.Equal(DimensionOrigin.Inherited, closure.Origin);
        // No hoodie has a sleeve or rise attribute: those parent dimensions do not carry over.
        Assert.DoesNotContain(refined.Dimensions, d => d.Members.Contains("sleeve length") || d.Members.Contains("rise"));
        Assert.Contains("Dropped", refined.Reasoning);
    }

    [Fact]
    public async Task Item_evidence_comes_from_attribute_values_and_title()
    {
        var items = KnowledgeTestData.Apparel();
        var reasoner = new KnowledgeReasoner(_backend, fixture.Encoder, new InMemoryTaxonomyCache(), new InMemoryCategoryCorpus(items));
        var tee = items[0]; // red cotton crew neck t-shirt, colour: red, material: 100% cotton
        var result = await reasoner.AnalyzeItemAsync(tee, default);

        var colour = result.AttributeDimensions.Single(d => d.Evidence.Contains("red"));
        Assert.Contains("red", colour.Keywords);
        Assert.Contains(result.AttributeDimensions, d => d.Evidence.Contains("100% cotton"));
        Assert.NotEmpty(result.DemandDimensions);
        Assert.Equal(0, result.RejectedEvidence);
        Assert.Equal("extractive", result.BackendName);
    }

    [Fact]
    public async Task Uncategorised_items_are_placed_in_the_nearest_category()
    {
        var reasoner = new KnowledgeReasoner(_backend, fixture.Encoder, new InMemoryTaxonomyCache(),
            new InMemoryCategoryCorpus(KnowledgeTestData.Apparel().Concat(KnowledgeTestData.Kitchen())));
        var hoodie = await reasoner.AnalyzeItemAsync(new KnowledgeItem("u1", "Charcoal fleece hooded sweatshirt", "Warm zip-up hoodie with pockets."), default);
        var pan = await reasoner.ClassifyAsync(new KnowledgeItem("u2", "Copper frying pan with non-stick coating"), default);

        Assert.Equal(CategoryPath.Of("Apparel", "Tops", "Hoodies"), hoodie.Category);
        Assert.True(hoodie.CategoryInferred);
        Assert.NotNull(hoodie.ClassificationScore);
        Assert.Equal(CategoryPath.Of("Kitchen", "Cookware", "Pans"), pan.Category);
    }
}
