using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ReaSeq.Processors.Knowledge.Taxonomy;

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
