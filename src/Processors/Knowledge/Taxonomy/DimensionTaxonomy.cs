using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ReaSeq.Processors.Knowledge.Taxonomy;

/// <summary>The two complementary views of §2.1: what users seek, and what the item inherently offers.</summary>
public enum Perspective { Demand, Attribute }

/// <summary>Why a dimension exists: built in layer 1, or kept/adapted/added by a layer-2 refinement.</summary>
public enum DimensionOrigin { Extracted, Inherited, Adapted, New }

/// <summary>
/// One axis items are described along. Members are the user expressions (demand) or merchant attribute keys
/// (attribute) the dimension consolidates — the layer-2 "mapping to attributes/expressions".
/// </summary>
public sealed record TaxonomyDimension(
    string Label,
    string Description,
    IReadOnlyList<string> Members,
    DimensionOrigin Origin = DimensionOrigin.Extracted,
    string? Justification = null);

public sealed record DimensionTaxonomy(
    CategoryPath Category,
    Perspective Perspective,
    IReadOnlyList<TaxonomyDimension> Dimensions,
    string Reasoning)
{
    public TaxonomyDimension? Find(string label) =>
        Dimensions.FirstOrDefault(d => string.Equals(d.Label, label, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Both perspectives of one (sub-)category, as layers 1-2 leave them for layer 3.</summary>
public sealed record CategoryTaxonomies(DimensionTaxonomy Demand, DimensionTaxonomy Attribute, string PromptVersion, string BackendName)
{
    public CategoryPath Category => Demand.Category;

    public DimensionTaxonomy For(Perspective perspective) => perspective == Perspective.Demand ? Demand : Attribute;

    /// <summary>Short content hash: changes whenever any dimension, member or origin changes.</summary>
    public string Version
    {
        get
        {
            var canonical = JsonSerializer.Serialize(new
            {
                category = Category.ToString(),
                promptVersion = PromptVersion,
                backend = BackendName,
                demand = Demand.Dimensions.Select(d => new { d.Label, d.Description, d.Members, origin = d.Origin.ToString() }),
                attribute = Attribute.Dimensions.Select(d => new { d.Label, d.Description, d.Members, origin = d.Origin.ToString() }),
            });
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..16];
        }
    }
}
