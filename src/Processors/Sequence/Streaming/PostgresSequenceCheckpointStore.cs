using Npgsql;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Processors.Sequence.Streaming;

public sealed class PostgresSequenceCheckpointStore(NpgsqlDataSource db) : ISequenceCheckpointStore
{
    /// <summary>The database the role's other shared state (gap sketches, thresholds, global models) lives in.</summary>
    public NpgsqlDataSource Database => db;

    public async Task<SequenceCheckpoint?> LoadAsync(string consumerGroup, string topic, int partition, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select next_offset, snapshot from sequence_checkpoints where consumer_group = $1 and topic = $2 and partition = $3");
        cmd.Parameters.AddWithValue(consumerGroup);
        cmd.Parameters.AddWithValue(topic);
        cmd.Parameters.AddWithValue(partition);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new SequenceCheckpoint(topic, partition, reader.GetInt64(0), (byte[])reader[1]) : null;
    }

    public async Task SaveAsync(string consumerGroup, IReadOnlyList<SequenceCheckpoint> checkpoints, CancellationToken ct)
    {
        if (checkpoints.Count == 0) return;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        foreach (var c in checkpoints)
        {
            await using var cmd = new NpgsqlCommand(
                "insert into sequence_checkpoints (consumer_group, topic, partition, next_offset, snapshot) values ($1, $2, $3, $4, $5) " +
                "on conflict (consumer_group, topic, partition) do update set next_offset = excluded.next_offset, snapshot = excluded.snapshot, updated_at = now()", conn, tx);
            cmd.Parameters.AddWithValue(consumerGroup);
            cmd.Parameters.AddWithValue(c.Topic);
            cmd.Parameters.AddWithValue(c.Partition);
            cmd.Parameters.AddWithValue(c.NextOffset);
            cmd.Parameters.AddWithValue(c.Snapshot);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        // The same offsets in the shared table, so lag tooling sees every processor alike.
        var offsets = checkpoints.Select(c => new PartitionOffset(c.Topic, c.Partition, c.NextOffset)).ToList();
        await PgOffsets.SaveAsync(conn, tx, consumerGroup, offsets, ct);
        await tx.CommitAsync(ct);
    }
}
