using Npgsql;
using NpgsqlTypes;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Processors.Sequence.Streaming;

public sealed class PostgresSequenceCheckpointStore(NpgsqlDataSource db) : ISequenceCheckpointStore
{
    /// <summary>The database the role's other shared state (gap sketches, thresholds, global models) lives in.</summary>
    public NpgsqlDataSource Database => db;

    public async Task<IReadOnlyDictionary<int, long>> ClaimAsync(string consumerGroup, string topic, IReadOnlyCollection<int> partitions, CancellationToken ct)
    {
        var claimed = await PgOffsets.ClaimAsync(db, consumerGroup, partitions.Select(p => (topic, p)).ToList(), ct);
        return claimed.ToDictionary(kv => kv.Key.Partition, kv => kv.Value);
    }

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

    public async Task<IReadOnlyList<byte[]>> LoadUsersAsync(string consumerGroup, IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        if (userIds.Count == 0) return [];
        await using var cmd = db.CreateCommand("select snapshot from sequence_users where consumer_group = $1 and user_id = any($2)");
        cmd.Parameters.AddWithValue(consumerGroup);
        cmd.Parameters.AddWithValue(userIds.ToArray());
        var users = new List<byte[]>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) users.Add((byte[])reader[0]);
        return users;
    }

    public async Task SaveAsync(string consumerGroup, IReadOnlyList<SequenceCheckpoint> checkpoints, CancellationToken ct)
    {
        if (checkpoints.Count == 0) return;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Fencing first (issue 8 B5): the offset rows stay locked until commit, so a new owner's claim waits for this
        // transaction or makes it fail; a stale writer never commits over the new owner's state.
        await PgOffsets.EnsureOwnerAsync(conn, tx, consumerGroup, checkpoints.Select(c => (c.Topic, c.Partition, c.OwnerEpoch)).ToList(), ct);
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
            if (c.Users.Count == 0) continue;
            await using var users = new NpgsqlCommand(
                "insert into sequence_users (consumer_group, user_id, partition, snapshot) select $1, u, $2, s from unnest($3::text[], $4::bytea[]) x(u, s) " +
                "on conflict (consumer_group, user_id) do update set partition = excluded.partition, snapshot = excluded.snapshot, updated_at = now()", conn, tx);
            users.Parameters.AddWithValue(consumerGroup);
            users.Parameters.AddWithValue(c.Partition);
            users.Parameters.AddWithValue(c.Users.Select(u => u.Key).ToArray());
            users.Parameters.Add(new NpgsqlParameter { Value = c.Users.Select(u => u.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            await users.ExecuteNonQueryAsync(ct);
        }
        // The same offsets in the shared table, so lag tooling sees every processor alike.
        var offsets = checkpoints.Select(c => new PartitionOffset(c.Topic, c.Partition, c.NextOffset)).ToList();
        await PgOffsets.SaveAsync(conn, tx, consumerGroup, offsets, ct);
        await tx.CommitAsync(ct);
    }
}
