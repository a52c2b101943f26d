using Npgsql;
using NpgsqlTypes;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Stores;

namespace ReaSeq.Processors.State;

/// <summary>
/// Click sequences in PostgreSQL: new clicks go in with one binary COPY per batch, heads and trims with one
/// statement each, offsets with one more, all in a single transaction (no round trip per event).
/// </summary>
public sealed class PostgresClickSequenceStore(NpgsqlDataSource db) : IClickSequenceStore
{
    public Task<IReadOnlyList<PartitionOffset>> LoadOffsetsAsync(string consumerGroup, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct) =>
        PgOffsets.LoadAsync(db, consumerGroup, partitions, ct);

    public async Task<IReadOnlyList<StoredClick>> LoadPartitionsAsync(IReadOnlyCollection<int> partitions, CancellationToken ct)
    {
        if (partitions.Count == 0) return [];
        await using var cmd = db.CreateCommand(
            "select c.user_id, c.seq, c.event_id, c.item_id, c.ts_ms, c.action from user_clicks c " +
            "join user_heads h on h.user_id = c.user_id where h.kafka_partition = any($1) order by c.user_id, c.seq");
        cmd.Parameters.AddWithValue(partitions.ToArray());
        return await ReadClicksAsync(cmd, ct);
    }

    public async Task<IReadOnlyList<StoredClick>> GetSequenceAsync(string userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select user_id, seq, event_id, item_id, ts_ms, action from user_clicks where user_id = $1 order by seq");
        cmd.Parameters.AddWithValue(userId);
        return await ReadClicksAsync(cmd, ct);
    }

    public async Task CommitAsync(string consumerGroup, IReadOnlyList<StoredClick> appended, IReadOnlyList<UserHead> heads,
        IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (appended.Count > 0)
        {
            await using var copy = await conn.BeginBinaryImportAsync(
                "copy user_clicks (user_id, seq, event_id, item_id, ts_ms, action) from stdin (format binary)", ct);
            foreach (var c in appended)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(c.UserId, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(c.Seq, NpgsqlDbType.Bigint, ct);
                await copy.WriteAsync(c.EventId, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(c.ItemId, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(c.TsMs, NpgsqlDbType.Bigint, ct);
                await copy.WriteAsync((short)c.Action, NpgsqlDbType.Smallint, ct);
            }
            await copy.CompleteAsync(ct);
        }
        if (heads.Count > 0)
        {
            await using (var upsert = new NpgsqlCommand(
                "insert into user_heads (user_id, kafka_partition, next_seq) select * from unnest($1::text[], $2::int[], $3::bigint[]) " +
                "on conflict (user_id) do update set kafka_partition = excluded.kafka_partition, next_seq = excluded.next_seq", conn, tx))
            {
                upsert.Parameters.AddWithValue(heads.Select(h => h.UserId).ToArray());
                upsert.Parameters.AddWithValue(heads.Select(h => h.Partition).ToArray());
                upsert.Parameters.AddWithValue(heads.Select(h => h.NextSeq).ToArray());
                await upsert.ExecuteNonQueryAsync(ct);
            }
            var trims = heads.Where(h => h.KeepFromSeq > 0).ToList();
            if (trims.Count > 0)
            {
                await using var trim = new NpgsqlCommand(
                    "delete from user_clicks c using unnest($1::text[], $2::bigint[]) t(u, keep) where c.user_id = t.u and c.seq < t.keep", conn, tx);
                trim.Parameters.AddWithValue(trims.Select(h => h.UserId).ToArray());
                trim.Parameters.AddWithValue(trims.Select(h => h.KeepFromSeq).ToArray());
                await trim.ExecuteNonQueryAsync(ct);
            }
        }
        await PgOffsets.SaveAsync(conn, tx, consumerGroup, offsets, ct);
        await tx.CommitAsync(ct);
    }

    private static async Task<IReadOnlyList<StoredClick>> ReadClicksAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var result = new List<StoredClick>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result.Add(new StoredClick(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), (ClickAction)reader.GetInt16(5)));
        return result;
    }
}
