using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ReaSeq.Processors.Knowledge.Taxonomy;

/// <summary>Both perspectives of one (sub-)category, as layers 1-2 leave them for layer 3.</summary>
public sealed record CategoryTaxonomies(DimensionTaxonomy Demand, DimensionTaxonomy Attribute, string PromptVersion, string BackendName)
{
    public CategoryPath Category => Demand.Category;

    public DimensionTaxonomy For(Perspective perspective) => perspective == Perspective.Demand ? Demand : Attribute;

    /// <summary>
    /// 1 for the first taxonomy of a category; each rebuild (the category's corpus grew, or its parent was rebuilt) is
    /// the next generation. Not part of <see cref="Version"/>: a rebuild that yields the same dimensions changes nothing.
    /// </summary>
    public int Generation { get; init; } = 1;

    /// <summary>Items the category held when a primary taxonomy was built (the yardstick for its corpus growth).</summary>
    public int CorpusItems { get; init; }

    /// <summary>For a refinement (layer 2): the <see cref="Version"/> of the parent taxonomy it refines.</summary>
    public string ParentVersion { get; init; } = "";

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
