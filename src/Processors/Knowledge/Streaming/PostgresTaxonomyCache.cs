using System.Collections.Concurrent;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using ReaSeq.Processors.Knowledge.Taxonomy;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// Taxonomies in the table <c>taxonomies</c> (body jsonb, version text), with a process-local copy in front so
/// layer 3 does not read the database per item. The first stored taxonomy of a key stays canonical: a second
/// instance that built one concurrently keeps its own result for that item but later reads return the stored one,
/// so replays see the same taxonomy.
/// </summary>
public sealed class PostgresTaxonomyCache(NpgsqlDataSource db) : ITaxonomyCache
{
    private readonly ConcurrentDictionary<TaxonomyCacheKey, CategoryTaxonomies> _local = new();

    public async ValueTask<CategoryTaxonomies?> TryGetAsync(TaxonomyCacheKey key, CancellationToken cancellationToken)
    {
        if (_local.TryGetValue(key, out var known)) return known;
        await using var cmd = db.CreateCommand("select body::text from taxonomies where category = $1 and prompt_version = $2 and backend = $3");
        cmd.Parameters.AddWithValue(key.Category);
        cmd.Parameters.AddWithValue(key.PromptVersion);
        cmd.Parameters.AddWithValue(key.BackendName);
        if (await cmd.ExecuteScalarAsync(cancellationToken) is not string body) return null;
        var taxonomies = TaxonomyJson.Deserialize(body);
        return _local.GetOrAdd(key, taxonomies);
    }

    public async ValueTask SetAsync(TaxonomyCacheKey key, CategoryTaxonomies taxonomies, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(
            "insert into taxonomies (category, prompt_version, backend, version, body) values ($1, $2, $3, $4, $5) " +
            "on conflict (category, prompt_version, backend) do nothing");
        cmd.Parameters.AddWithValue(key.Category);
        cmd.Parameters.AddWithValue(key.PromptVersion);
        cmd.Parameters.AddWithValue(key.BackendName);
        cmd.Parameters.AddWithValue(taxonomies.Version);
        cmd.Parameters.Add(new NpgsqlParameter { Value = TaxonomyJson.Serialize(taxonomies), NpgsqlDbType = NpgsqlDbType.Jsonb });
        if (await cmd.ExecuteNonQueryAsync(cancellationToken) == 1) _local[key] = taxonomies;
        else
        {
            _local.TryRemove(key, out _);
            await TryGetAsync(key, cancellationToken); // another writer won: remember its taxonomy
        }
    }

    public async ValueTask RemoveAsync(TaxonomyCacheKey key, CancellationToken cancellationToken)
    {
        _local.TryRemove(key, out _);
        await using var cmd = db.CreateCommand("delete from taxonomies where category = $1 and prompt_version = $2 and backend = $3");
        cmd.Parameters.AddWithValue(key.Category);
        cmd.Parameters.AddWithValue(key.PromptVersion);
        cmd.Parameters.AddWithValue(key.BackendName);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>JSON form of <see cref="CategoryTaxonomies"/> (CategoryPath has no public constructor, so plain DTOs carry it).</summary>
public static class TaxonomyJson
{
    private sealed record DimensionDto(string Label, string Description, string[] Members, string Origin, string? Justification);
    private sealed record TaxonomyDto(string[] Category, string Perspective, DimensionDto[] Dimensions, string Reasoning);
    private sealed record BodyDto(string Version, string PromptVersion, string Backend, TaxonomyDto Demand, TaxonomyDto Attribute);

    public static string Serialize(CategoryTaxonomies taxonomies) => JsonSerializer.Serialize(new BodyDto(
        taxonomies.Version, taxonomies.PromptVersion, taxonomies.BackendName, ToDto(taxonomies.Demand), ToDto(taxonomies.Attribute)));

    public static CategoryTaxonomies Deserialize(string json)
    {
        var body = JsonSerializer.Deserialize<BodyDto>(json) ?? throw new InvalidDataException("Empty taxonomy body.");
        var result = new CategoryTaxonomies(FromDto(body.Demand), FromDto(body.Attribute), body.PromptVersion, body.Backend);
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
