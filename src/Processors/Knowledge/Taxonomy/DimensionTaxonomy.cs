namespace ReaSeq.Processors.Knowledge.Taxonomy;

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
