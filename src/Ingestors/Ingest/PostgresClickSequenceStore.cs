using Npgsql;
using NpgsqlTypes;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Ingestors.Ingest;

/// <summary>
/// Click sequences in PostgreSQL: new clicks go in with one binary COPY per batch, trims and offsets with one
/// statement each, all in a single transaction (no round trip per event).
/// </summary>
public sealed class PostgresClickSequenceStore(NpgsqlDataSource db) : IClickSequenceStore
{
    public Task<IReadOnlyList<PartitionOffset>> LoadOffsetsAsync(string consumerGroup, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct) =>
        PgOffsets.LoadAsync(db, consumerGroup, partitions, ct);

    public Task<IReadOnlyList<PartitionOffset>> ClaimOffsetsAsync(string consumerGroup, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct) =>
        PgOffsets.ClaimOffsetsAsync(db, consumerGroup, partitions, ct);

    public async Task<IReadOnlyList<StoredClick>> LoadPartitionsAsync(IReadOnlyCollection<int> partitions, CancellationToken ct)
    {
        if (partitions.Count == 0) return [];
        await using var cmd = db.CreateCommand(
            "select user_id, seq, event_id, item_id, ts_ms, action, kafka_partition from user_clicks where kafka_partition = any($1) order by user_id, seq");
        cmd.Parameters.AddWithValue(partitions.ToArray());
        return await ReadClicksAsync(cmd, ct);
    }

    public async Task<IReadOnlyList<StoredClick>> GetSequenceAsync(string userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select user_id, seq, event_id, item_id, ts_ms, action, kafka_partition from user_clicks where user_id = $1 order by seq");
        cmd.Parameters.AddWithValue(userId);
        return await ReadClicksAsync(cmd, ct);
    }

    public async Task CommitAsync(string consumerGroup, IReadOnlyList<StoredClick> appended, IReadOnlyList<SequenceTrim> trims,
        IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Offsets first: storing them checks this writer's owner epoch (and locks the rows), so a fenced writer fails
        // before writing anything, and two writers of one partition are serialised.
        await PgOffsets.SaveAsync(conn, tx, consumerGroup, offsets, ct);
        if (appended.Count > 0)
        {
            // Synchronous writes: the rows are in memory already, and per-field async calls cost more than the copy.
            using var copy = conn.BeginBinaryImport(
                "copy user_clicks (user_id, seq, event_id, item_id, ts_ms, action, kafka_partition) from stdin (format binary)");
            foreach (var c in appended)
            {
                copy.StartRow();
                copy.Write(c.UserId, NpgsqlDbType.Text);
                copy.Write(c.Seq, NpgsqlDbType.Bigint);
                copy.Write(c.EventId, NpgsqlDbType.Text);
                copy.Write(c.ItemId, NpgsqlDbType.Text);
                copy.Write(c.TsMs, NpgsqlDbType.Bigint);
                copy.Write((short)c.Action, NpgsqlDbType.Smallint);
                copy.Write(c.Partition, NpgsqlDbType.Integer);
            }
            copy.Complete();
        }
        if (trims.Count > 0)
        {
            await using var trim = new NpgsqlCommand(
                "delete from user_clicks c using unnest($1::text[], $2::bigint[]) t(u, keep) where c.user_id = t.u and c.seq < t.keep", conn, tx);
            trim.Parameters.AddWithValue(trims.Select(t => t.UserId).ToArray());
            trim.Parameters.AddWithValue(trims.Select(t => t.KeepFromSeq).ToArray());
            await trim.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    private static async Task<IReadOnlyList<StoredClick>> ReadClicksAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var result = new List<StoredClick>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result.Add(new StoredClick(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), (ClickAction)reader.GetInt16(5), reader.GetInt32(6)));
        return result;
    }
}
