using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;
using ReaSeq.Processors.Knowledge.Taxonomy;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// Taxonomies in the table <c>taxonomies</c> (body jsonb, version text), with a process-local copy in front so
/// layer 3 does not read the database per item. The first stored taxonomy of a key stays canonical: a second
/// instance that built one concurrently keeps its own result for that item but later reads return the stored one,
/// so replays see the same taxonomy. A rebuild is stored as the next generation (migration 0014); reads return the
/// newest generation.
/// </summary>
public sealed class PostgresTaxonomyCache(NpgsqlDataSource db) : ITaxonomyCache
{
    private readonly ConcurrentDictionary<TaxonomyCacheKey, CategoryTaxonomies> _local = new();

    public async ValueTask<CategoryTaxonomies?> TryGetAsync(TaxonomyCacheKey key, CancellationToken cancellationToken) =>
        _local.TryGetValue(key, out var known) ? known : await RefreshAsync(key, cancellationToken);

    public async ValueTask<CategoryTaxonomies?> RefreshAsync(TaxonomyCacheKey key, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(
            "select body::text from taxonomies where category = $1 and prompt_version = $2 and backend = $3 order by generation desc limit 1");
        cmd.Parameters.AddWithValue(key.Category);
        cmd.Parameters.AddWithValue(key.PromptVersion);
        cmd.Parameters.AddWithValue(key.BackendName);
        if (await cmd.ExecuteScalarAsync(cancellationToken) is not string body) return null;
        var taxonomies = TaxonomyJson.Deserialize(body);
        return _local.AddOrUpdate(key, taxonomies, (_, local) => taxonomies.Generation >= local.Generation ? taxonomies : local);
    }

    public async ValueTask SetAsync(TaxonomyCacheKey key, CategoryTaxonomies taxonomies, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(
            "insert into taxonomies (category, prompt_version, backend, version, body, generation) values ($1, $2, $3, $4, $5, $6) " +
            "on conflict (category, prompt_version, backend, generation) do nothing");
        cmd.Parameters.AddWithValue(key.Category);
        cmd.Parameters.AddWithValue(key.PromptVersion);
        cmd.Parameters.AddWithValue(key.BackendName);
        cmd.Parameters.AddWithValue(taxonomies.Version);
        cmd.Parameters.Add(new NpgsqlParameter { Value = TaxonomyJson.Serialize(taxonomies), NpgsqlDbType = NpgsqlDbType.Jsonb });
        cmd.Parameters.AddWithValue(taxonomies.Generation);
        if (await cmd.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            _local.AddOrUpdate(key, taxonomies, (_, local) => taxonomies.Generation >= local.Generation ? taxonomies : local);
        }
        else
        {
            _local.TryRemove(key, out _);
            await RefreshAsync(key, cancellationToken); // another writer won: remember its taxonomy
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
