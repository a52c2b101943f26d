using System.Text.Json;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Models.Ctr;

namespace ReaSeq.Api.Features;

/// <summary>
/// Online reads of the features the API serves, straight from PostgreSQL: user_clicks (ingest role), item_knowledge
/// (knowledge role), items (catalog) and api_user_features (this role's copy of the latest sequence and fills).
/// </summary>
public sealed class FeatureStore(NpgsqlDataSource db, AvroSerde<SequenceUpdate> sequenceSerde, AvroSerde<AugmentedSequence> augmentedSerde, ApiOptions options)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The user's latest features in one round trip (two statements of one batch).</summary>
    public async Task<UserFeatures> LoadUserAsync(string userId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("select item_id, ts_ms from (select item_id, ts_ms, seq from user_clicks where user_id = $1 order by seq desc limit $2) r order by seq")
                {
                    Parameters = { new() { Value = userId }, new() { Value = options.HistoryLength } },
                },
                new NpgsqlBatchCommand("select sequence_update, augmented from api_user_features where user_id = $1")
                {
                    Parameters = { new() { Value = userId } },
                },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(ct);
        var items = new List<string>();
        var times = new List<long>();
        while (await reader.ReadAsync(ct))
        {
            items.Add(reader.GetString(0));
            times.Add(reader.GetInt64(1));
        }
        await reader.NextResultAsync(ct);
        SequenceUpdate? sequence = null;
        AugmentedSequence? augmented = null;
        if (await reader.ReadAsync(ct))
        {
            if (!reader.IsDBNull(0)) sequence = sequenceSerde.Deserialize((byte[])reader[0]);
            if (!reader.IsDBNull(1)) augmented = augmentedSerde.Deserialize((byte[])reader[1]);
        }
        return new UserFeatures(userId, items, times, sequence, augmented, Environment.TickCount64);
    }

    /// <summary>Features of the given items, one per id, in the given order (unknown ids come back with Unknown set).</summary>
    public async Task<IReadOnlyList<ItemFeatures>> LoadItemsAsync(IReadOnlyList<string> itemIds, CancellationToken ct)
    {
        if (itemIds.Count == 0) return [];
        await using var cmd = db.CreateCommand(
            "select u.id, i.item_id is not null, k.vector, k.semantic_id, i.category_path, i.price, coalesce(k.ts_ms, -1), " +
            // Clicks so far (index user_clicks_item_ts), the trainer's popularity feature.
            "(select count(*) from user_clicks c where c.item_id = u.id) " +
            "from unnest($1::text[]) with ordinality u(id, n) " +
            "left join item_knowledge k on k.item_id = u.id " +
            "left join items i on i.item_id = u.id and not i.deleted order by u.n");
        cmd.Parameters.AddWithValue(itemIds.ToArray());
        var now = Environment.TickCount64;
        var result = new List<ItemFeatures>(itemIds.Count);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var inCatalog = reader.GetBoolean(1);
            // Buckets exactly as the trainer computes them (CtrBuckets): leaf category of the catalog path, price.
            result.Add(new ItemFeatures(reader.GetString(0), inCatalog,
                reader.IsDBNull(2) ? null : reader.GetFieldValue<float[]>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<int[]>(3),
                inCatalog ? CtrBuckets.CategoryBucket(reader.GetFieldValue<string[]>(4)) : 0,
                inCatalog ? CtrBuckets.PriceBucket(reader.IsDBNull(5) ? null : reader.GetDouble(5)) : 0,
                reader.GetInt64(7), reader.GetInt64(6), now));
        }
        return result;
    }

    /// <summary>The item's knowledge row, or null when the knowledge role has not reasoned about it.</summary>
    public async Task<KnowledgeRow?> LoadKnowledgeAsync(string itemId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select item_id, category, category_assigned, demand::text, attribute::text, vector, semantic_id, semantic_id_version, " +
            "taxonomy_version, prompt_version, backend, encoder, content_hash, ts_ms from item_knowledge where item_id = $1");
        cmd.Parameters.AddWithValue(itemId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new KnowledgeRow(reader.GetString(0), reader.GetString(1), reader.GetBoolean(2), Dimensions(reader.GetString(3)),
            Dimensions(reader.GetString(4)), reader.GetFieldValue<float[]>(5), reader.GetFieldValue<int[]>(6), reader.GetString(7),
            reader.GetString(8), reader.GetString(9), reader.GetString(10), reader.GetString(11), reader.GetString(12), reader.GetInt64(13));
    }

    /// <summary>Every knowledge vector, for the in-process similarity index.</summary>
    public async IAsyncEnumerable<(string ItemId, float[] Vector, string Category)> ReadVectorsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select item_id, vector, category from item_knowledge");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) yield return (reader.GetString(0), reader.GetFieldValue<float[]>(1), reader.GetString(2));
    }

    private static List<DimensionRow> Dimensions(string json) => JsonSerializer.Deserialize<List<DimensionRow>>(json, Json) ?? [];
}
