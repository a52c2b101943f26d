using System.Text.Json;
using ReaSeq.Processors.Knowledge.Taxonomy;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>JSON form of <see cref="CategoryTaxonomies"/> (CategoryPath has no public constructor, so plain DTOs carry it).</summary>
public static class TaxonomyJson
{
    private sealed record DimensionDto(string Label, string Description, string[] Members, string Origin, string? Justification);
    private sealed record TaxonomyDto(string[] Category, string Perspective, DimensionDto[] Dimensions, string Reasoning);
    private sealed record BodyDto(string Version, string PromptVersion, string Backend, TaxonomyDto Demand, TaxonomyDto Attribute,
        int Generation = 1, int CorpusItems = 0, string? ParentVersion = null);

    public static string Serialize(CategoryTaxonomies taxonomies) => JsonSerializer.Serialize(new BodyDto(
        taxonomies.Version, taxonomies.PromptVersion, taxonomies.BackendName, ToDto(taxonomies.Demand), ToDto(taxonomies.Attribute),
        taxonomies.Generation, taxonomies.CorpusItems, taxonomies.ParentVersion));

    public static CategoryTaxonomies Deserialize(string json)
    {
        var body = JsonSerializer.Deserialize<BodyDto>(json) ?? throw new InvalidDataException("Empty taxonomy body.");
        // Bodies stored before rebuilds existed carry none of the generation fields: they are generation 1.
        var result = new CategoryTaxonomies(FromDto(body.Demand), FromDto(body.Attribute), body.PromptVersion, body.Backend)
        {
            Generation = Math.Max(1, body.Generation),
            CorpusItems = body.CorpusItems,
            ParentVersion = body.ParentVersion ?? "",
        };
        // The version is a content hash: a mismatch means the stored body was altered or the hash definition changed.
        if (result.Version != body.Version)
            throw new InvalidDataException($"Stored taxonomy of '{result.Category}' hashes to {result.Version}, recorded as {body.Version}.");
        return result;
    }

    private static TaxonomyDto ToDto(DimensionTaxonomy t) => new(
        t.Category.Segments.ToArray(), t.Perspective.ToString(),
        t.Dimensions.Select(d => new DimensionDto(d.Label, d.Description, d.Members.ToArray(), d.Origin.ToString(), d.Justification)).ToArray(),
        t.Reasoning);

    private static DimensionTaxonomy FromDto(TaxonomyDto t) => new(
        CategoryPath.Of(t.Category), Enum.Parse<Perspective>(t.Perspective),
        t.Dimensions.Select(d => new TaxonomyDimension(d.Label, d.Description, d.Members, Enum.Parse<DimensionOrigin>(d.Origin), d.Justification)).ToArray(),
        t.Reasoning);
}
