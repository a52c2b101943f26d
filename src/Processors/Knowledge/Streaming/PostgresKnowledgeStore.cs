using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// The table <c>item_knowledge</c>: one row per item holding exactly the content of the last ItemKnowledge
/// published for it, so a row can be re-published byte-identically (e.g. with a new semantic id).
/// </summary>
public sealed class PostgresKnowledgeStore(NpgsqlDataSource db)
{
    private sealed record DimensionJson(string Label, List<string> Keywords, List<string> Evidence, string Analysis);

    private const string Columns =
        "item_id, content_hash, category, category_assigned, demand::text, attribute::text, vector, semantic_id, semantic_id_version, " +
        "taxonomy_version, prompt_version, backend, encoder, ts_ms";

    public Task<IReadOnlyList<PartitionOffset>> LoadOffsetsAsync(string group, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct) =>
        PgOffsets.LoadAsync(db, group, partitions, ct);

    public Task<IReadOnlyList<PartitionOffset>> ClaimOffsetsAsync(string group, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct) =>
        PgOffsets.ClaimOffsetsAsync(db, group, partitions, ct);

    /// <summary>What decides whether an item's stored knowledge is current: its content hash, category and taxonomy version.</summary>
    public sealed record StoredDerivation(string ContentHash, string Category, string TaxonomyVersion);

    /// <summary>Stored derivation per item id (absent ids have no knowledge yet).</summary>
    public async Task<Dictionary<string, StoredDerivation>> LoadDerivationsAsync(IReadOnlyCollection<string> itemIds, CancellationToken ct)
    {
        var result = new Dictionary<string, StoredDerivation>(StringComparer.Ordinal);
        if (itemIds.Count == 0) return result;
        await using var cmd = db.CreateCommand("select item_id, content_hash, category, taxonomy_version from item_knowledge where item_id = any($1)");
        cmd.Parameters.AddWithValue(itemIds.ToArray());
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) result[reader.GetString(0)] = new StoredDerivation(reader.GetString(1), reader.GetString(2), reader.GetString(3));
        return result;
    }

    /// <summary>
    /// Upserts the rows, deletes the deleted items' rows (leaving tombstones for the vector-store repair) and stores the
    /// offsets, in one transaction. <paramref name="vectors"/> gives a row's base vector and adapter version when its
    /// vector is IUI-adapted; a row missing there stores its vector as the base one.
    /// </summary>
    public async Task CommitAsync(string group, IReadOnlyList<ItemKnowledge> rows, IReadOnlyList<string> deleted,
                                  IReadOnlyList<PartitionOffset> offsets, CancellationToken ct,
                                  IReadOnlyDictionary<string, (float[] Base, string AdapterVersion)>? vectors = null)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Offsets first: storing them checks this writer's owner epoch (and locks the rows), so a fenced writer fails
        // before writing anything, and two writers of one partition are serialised.
        await PgOffsets.SaveAsync(conn, tx, group, offsets, ct);
        foreach (var row in rows)
        {
            var (baseVector, adapter) = vectors is not null && vectors.TryGetValue(row.ItemId, out var v) ? v : (row.Vector.ToArray(), "");
            await UpsertAsync(conn, tx, row, baseVector, adapter, ct);
        }
        if (rows.Count > 0)
        {
            await using var revive = new NpgsqlCommand("delete from item_knowledge_tombstones where item_id = any($1)", conn, tx);
            revive.Parameters.AddWithValue(rows.Select(r => r.ItemId).ToArray());
            await revive.ExecuteNonQueryAsync(ct);
        }
        if (deleted.Count > 0)
        {
            await using var delete = new NpgsqlCommand("delete from item_knowledge where item_id = any($1)", conn, tx);
            delete.Parameters.AddWithValue(deleted.ToArray());
            await delete.ExecuteNonQueryAsync(ct);
            await using var tombstone = new NpgsqlCommand(
                "insert into item_knowledge_tombstones (item_id) select unnest($1::text[]) on conflict (item_id) do update set deleted_at = now()", conn, tx);
            tombstone.Parameters.AddWithValue(deleted.ToArray());
            await tombstone.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// Writes new vectors (re-adapted from the base vector) and semantic ids for rows still holding the content they
    /// were read with; returns how many matched (a row the processor rewrote meanwhile is already current).
    /// </summary>
    public async Task<int> UpdateDerivedAsync(IReadOnlyList<StoredKnowledge> rows, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        int updated = 0;
        foreach (var (row, _, adapter) in rows)
        {
            await using var cmd = new NpgsqlCommand(
                "update item_knowledge set vector = $5, adapter_version = $6, semantic_id = $2, semantic_id_version = $3, updated_at = now() " +
                "where item_id = $1 and content_hash = $4", conn, tx);
            cmd.Parameters.AddWithValue(row.ItemId);
            cmd.Parameters.AddWithValue(row.SemanticId.ToArray());
            cmd.Parameters.AddWithValue(row.SemanticIdVersion);
            cmd.Parameters.AddWithValue(row.ContentHash);
            cmd.Parameters.AddWithValue(row.Vector.ToArray());
            cmd.Parameters.AddWithValue(adapter);
            updated += await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return updated;
    }

    /// <summary>Ids of deleted items (whose vectors must not be in the vector store).</summary>
    public async Task<List<string>> TombstonesAsync(CancellationToken ct)
    {
        var ids = new List<string>();
        await using var cmd = db.CreateCommand("select item_id from item_knowledge_tombstones order by item_id");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>Base vectors (the encoder's) of every item, in item id order: the IUI adapter's input.</summary>
    public async Task<(List<string> Ids, List<float[]> Vectors)> LoadBaseVectorsAsync(CancellationToken ct)
    {
        var ids = new List<string>();
        var vectors = new List<float[]>();
        await using var cmd = db.CreateCommand("select item_id, coalesce(base_vector, vector) from item_knowledge order by item_id");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetString(0));
            vectors.Add(reader.GetFieldValue<float[]>(1));
        }
        return (ids, vectors);
    }

    /// <summary>Clicks retained by the ingest role (user, item, time) at or after <paramref name="fromTsMs"/>, per user in sequence order.</summary>
    public async Task<List<(string UserId, string ItemId, long TsMs)>> LoadClicksAsync(long fromTsMs, CancellationToken ct)
    {
        var clicks = new List<(string, string, long)>();
        await using var cmd = db.CreateCommand("select user_id, item_id, ts_ms from user_clicks where ts_ms >= $1 order by user_id, seq");
        cmd.Parameters.AddWithValue(fromTsMs);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) clicks.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        return clicks;
    }

    /// <summary>Number of retained clicks and the newest click time (0 without clicks).</summary>
    public async Task<(long Count, long NewestTsMs)> ClickStatsAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select count(*), coalesce(max(ts_ms), 0) from user_clicks");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<long> CountAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select count(*) from item_knowledge");
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
    }

    public async Task<ItemKnowledge?> GetAsync(string itemId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"select {Columns} from item_knowledge where item_id = $1");
        cmd.Parameters.AddWithValue(itemId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>Item ids and vectors of every row (the semantic id model's training set), in item id order.</summary>
    public async Task<(List<string> Ids, List<float[]> Vectors)> LoadVectorsAsync(CancellationToken ct)
    {
        var ids = new List<string>();
        var vectors = new List<float[]>();
        await using var cmd = db.CreateCommand("select item_id, vector from item_knowledge order by item_id");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetString(0));
            vectors.Add(reader.GetFieldValue<float[]>(1));
        }
        return (ids, vectors);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> rows after <paramref name="afterItemId"/> whose semantic id version differs from
    /// <paramref name="version"/> or whose vector was made by another adapter than <paramref name="adapterVersion"/>.
    /// </summary>
    public async Task<List<StoredKnowledge>> LoadOutdatedAsync(string version, string adapterVersion, string afterItemId, int limit, CancellationToken ct)
    {
        var rows = new List<StoredKnowledge>();
        await using var cmd = db.CreateCommand(
            $"select {Columns}, coalesce(base_vector, vector), adapter_version from item_knowledge " +
            "where (semantic_id_version <> $1 or adapter_version <> $4) and item_id > $2 order by item_id limit $3");
        cmd.Parameters.AddWithValue(version);
        cmd.Parameters.AddWithValue(afterItemId);
        cmd.Parameters.AddWithValue(limit);
        cmd.Parameters.AddWithValue(adapterVersion);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) rows.Add(new StoredKnowledge(Read(reader), reader.GetFieldValue<float[]>(14), reader.GetString(15)));
        return rows;
    }

    /// <summary>Every row, in pages, for restoring a vector store that lost points.</summary>
    public async IAsyncEnumerable<ItemKnowledge> ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"select {Columns} from item_knowledge order by item_id");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) yield return Read(reader);
    }

    private static async Task UpsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ItemKnowledge row, float[] baseVector, string adapterVersion,
                                          CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "insert into item_knowledge (item_id, content_hash, category, category_assigned, demand, attribute, vector, semantic_id, " +
            "semantic_id_version, taxonomy_version, prompt_version, backend, encoder, ts_ms, base_vector, adapter_version) " +
            "values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) " +
            "on conflict (item_id) do update set content_hash = excluded.content_hash, category = excluded.category, " +
            "category_assigned = excluded.category_assigned, demand = excluded.demand, attribute = excluded.attribute, vector = excluded.vector, " +
            "semantic_id = excluded.semantic_id, semantic_id_version = excluded.semantic_id_version, taxonomy_version = excluded.taxonomy_version, " +
            "prompt_version = excluded.prompt_version, backend = excluded.backend, encoder = excluded.encoder, ts_ms = excluded.ts_ms, " +
            "base_vector = excluded.base_vector, adapter_version = excluded.adapter_version, updated_at = now()",
            conn, tx);
        cmd.Parameters.AddWithValue(row.ItemId);
        cmd.Parameters.AddWithValue(row.ContentHash);
        cmd.Parameters.AddWithValue(row.Category);
        cmd.Parameters.AddWithValue(row.CategoryAssigned);
        cmd.Parameters.Add(new NpgsqlParameter { Value = ToJson(row.Demand), NpgsqlDbType = NpgsqlDbType.Jsonb });
        cmd.Parameters.Add(new NpgsqlParameter { Value = ToJson(row.Attribute), NpgsqlDbType = NpgsqlDbType.Jsonb });
        cmd.Parameters.AddWithValue(row.Vector.ToArray());
        cmd.Parameters.AddWithValue(row.SemanticId.ToArray());
        cmd.Parameters.AddWithValue(row.SemanticIdVersion);
        cmd.Parameters.AddWithValue(row.TaxonomyVersion);
        cmd.Parameters.AddWithValue(row.PromptVersion);
        cmd.Parameters.AddWithValue(row.Backend);
        cmd.Parameters.AddWithValue(row.Encoder);
        cmd.Parameters.AddWithValue(row.TsMs);
        cmd.Parameters.AddWithValue(baseVector);
        cmd.Parameters.AddWithValue(adapterVersion);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static string ToJson(List<KnowledgeDimension> dimensions) =>
        JsonSerializer.Serialize(dimensions.Select(d => new DimensionJson(d.Label, d.Keywords, d.Evidence, d.Analysis)));

    private static List<KnowledgeDimension> FromJson(string json) =>
        (JsonSerializer.Deserialize<List<DimensionJson>>(json) ?? [])
            .Select(d => new KnowledgeDimension { Label = d.Label, Keywords = d.Keywords, Evidence = d.Evidence, Analysis = d.Analysis }).ToList();

    private static ItemKnowledge Read(NpgsqlDataReader reader) => new()
    {
        ItemId = reader.GetString(0),
        ContentHash = reader.GetString(1),
        Category = reader.GetString(2),
        CategoryAssigned = reader.GetBoolean(3),
        Demand = FromJson(reader.GetString(4)),
        Attribute = FromJson(reader.GetString(5)),
        Vector = [.. reader.GetFieldValue<float[]>(6)],
        SemanticId = [.. reader.GetFieldValue<int[]>(7)],
        SemanticIdVersion = reader.GetString(8),
        TaxonomyVersion = reader.GetString(9),
        PromptVersion = reader.GetString(10),
        Backend = reader.GetString(11),
        Encoder = reader.GetString(12),
        TsMs = reader.GetInt64(13),
    };
}
