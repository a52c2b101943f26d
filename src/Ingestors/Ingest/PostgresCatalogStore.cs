using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Ingestors.Ingest;

/// <summary>The item catalog: latest update per item; an update older than the stored one is ignored.</summary>
public sealed class PostgresCatalogStore(NpgsqlDataSource db) : ICatalogStore
{
    public Task<IReadOnlyList<PartitionOffset>> LoadOffsetsAsync(string consumerGroup, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct) =>
        PgOffsets.LoadAsync(db, consumerGroup, partitions, ct);

    public Task<IReadOnlyList<PartitionOffset>> ClaimOffsetsAsync(string consumerGroup, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct) =>
        PgOffsets.ClaimOffsetsAsync(db, consumerGroup, partitions, ct);

    public async Task CommitAsync(string consumerGroup, IReadOnlyList<ItemUpdate> items, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Offsets first: storing them checks this writer's owner epoch (and locks the rows), so a fenced writer fails
        // before writing anything, and two writers of one partition are serialised.
        await PgOffsets.SaveAsync(conn, tx, consumerGroup, offsets, ct);
        if (items.Count > 0)
        {
            // Several updates of one item in a batch: keep the newest only (a statement may not touch a row twice).
            var latest = items.GroupBy(i => i.ItemId).Select(g => g.MaxBy(i => i.TsMs)!).ToList();
            await using var cmd = new NpgsqlCommand(
                "insert into items (item_id, title, description, category_path, attributes, price, ts_ms, deleted) " +
                "select i, t, d, array(select jsonb_array_elements_text(c)), a, p, ts, del " +
                "from unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::jsonb[], $6::float8[], $7::bigint[], $8::bool[]) x(i, t, d, c, a, p, ts, del) " +
                "on conflict (item_id) do update set title = excluded.title, description = excluded.description, " +
                "category_path = excluded.category_path, attributes = excluded.attributes, price = excluded.price, " +
                "ts_ms = excluded.ts_ms, deleted = excluded.deleted, updated_at = now() where items.ts_ms <= excluded.ts_ms", conn, tx);
            cmd.Parameters.AddWithValue(latest.Select(i => i.ItemId).ToArray());
            cmd.Parameters.AddWithValue(latest.Select(i => i.Title).ToArray());
            cmd.Parameters.AddWithValue(latest.Select(i => i.Description).ToArray());
            cmd.Parameters.Add(new NpgsqlParameter { Value = latest.Select(i => JsonSerializer.Serialize(i.CategoryPath)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
            cmd.Parameters.Add(new NpgsqlParameter { Value = latest.Select(i => JsonSerializer.Serialize(i.Attributes)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
            cmd.Parameters.Add(new NpgsqlParameter { Value = latest.Select(i => i.Price).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double });
            cmd.Parameters.AddWithValue(latest.Select(i => i.TsMs).ToArray());
            cmd.Parameters.AddWithValue(latest.Select(i => i.Op == ItemOp.DELETE).ToArray());
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    public async Task<ItemUpdate?> GetAsync(string itemId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select item_id, title, description, category_path, attributes::text, price, ts_ms, deleted from items where item_id = $1");
        cmd.Parameters.AddWithValue(itemId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new ItemUpdate
        {
            ItemId = reader.GetString(0),
            Title = reader.GetString(1),
            Description = reader.GetString(2),
            CategoryPath = [.. reader.GetFieldValue<string[]>(3)],
            Attributes = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(4)) ?? [],
            Price = reader.IsDBNull(5) ? null : reader.GetDouble(5),
            TsMs = reader.GetInt64(6),
            Op = reader.GetBoolean(7) ? ItemOp.DELETE : ItemOp.UPSERT,
        };
    }
}
