using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Processors.Dllm;

/// <summary>
/// The dllm role's PostgreSQL state (migration 0004): labeled windows kept as training data, the recorded model
/// versions with their checkpoints (so models live and die with the deployment's database), and the model version
/// each input partition uses, written in the same transaction as that partition's offsets.
/// </summary>
public sealed class DllmStore(NpgsqlDataSource db, string deployment)
{
    public NpgsqlDataSource Database => db;

    public string Deployment => deployment;

    /// <summary>Keeps each user's newest labeled window, with the offsets that produced them, in one transaction.</summary>
    public async Task SaveWindowsAsync(string group, IReadOnlyList<GapWindow> windows, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // One row per user: the newest window of the batch wins, and an older one never replaces a newer.
        var newest = windows.GroupBy(w => w.UserId).Select(g => g.MaxBy(w => w.SequenceVersion)!).ToList();
        if (newest.Count > 0)
        {
            await using var cmd = new NpgsqlCommand(
                "insert into dllm_training_windows (deployment, user_id, sequence_version, items, labeled, gaps, ts_ms) " +
                "select $1, u, v, string_to_array(i, chr(31)), string_to_array(l, ',')::int[], string_to_array(g, ',')::int[], t " +
                "from unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[]) x(u, v, i, l, g, t) " +
                "on conflict (deployment, user_id) do update set sequence_version = excluded.sequence_version, items = excluded.items, " +
                "labeled = excluded.labeled, gaps = excluded.gaps, ts_ms = excluded.ts_ms, updated_at = now() " +
                "where dllm_training_windows.sequence_version < excluded.sequence_version", conn, tx);
            cmd.Parameters.AddWithValue(deployment);
            cmd.Parameters.AddWithValue(newest.Select(w => w.UserId).ToArray());
            cmd.Parameters.AddWithValue(newest.Select(w => w.SequenceVersion).ToArray());
            cmd.Parameters.AddWithValue(newest.Select(w => string.Join('\u001f', w.Items)).ToArray());
            cmd.Parameters.AddWithValue(newest.Select(w => string.Join(',', w.Labeled)).ToArray());
            cmd.Parameters.AddWithValue(newest.Select(w => string.Join(',', w.Gaps)).ToArray());
            cmd.Parameters.AddWithValue(newest.Select(w => w.TsMs).ToArray());
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await PgOffsets.SaveAsync(conn, tx, group, offsets, ct);
        await tx.CommitAsync(ct);
    }

    public async Task<long> CountWindowsAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select count(*) from dllm_training_windows where deployment = $1");
        cmd.Parameters.AddWithValue(deployment);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
    }

    /// <summary>The newest <paramref name="limit"/> kept windows, in a fixed order (user id).</summary>
    public async Task<List<GapWindow>> ReadWindowsAsync(int limit, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select user_id, sequence_version, items, labeled, gaps, ts_ms from " +
            "(select * from dllm_training_windows where deployment = $1 order by ts_ms desc, user_id limit $2) w order by user_id");
        cmd.Parameters.AddWithValue(deployment);
        cmd.Parameters.AddWithValue(limit);
        var result = new List<GapWindow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new GapWindow(reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<string[]>(2),
                reader.GetFieldValue<int[]>(3), reader.GetFieldValue<int[]>(4), reader.GetInt64(5)));
        }
        return result;
    }

    /// <summary>Windows kept or changed after <paramref name="since"/> (new training data since a version).</summary>
    public async Task<long> CountWindowsSinceAsync(DateTime since, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select count(*) from dllm_training_windows where deployment = $1 and updated_at > $2");
        cmd.Parameters.AddWithValue(deployment);
        cmd.Parameters.AddWithValue(since);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
    }

    public async Task<DllmModelVersion?> LatestAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select version, training_windows, steps, metrics::text, created_at from dllm_models where deployment = $1 order by version desc limit 1");
        cmd.Parameters.AddWithValue(deployment);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        var metrics = JsonSerializer.Deserialize<Dictionary<string, double>>(reader.GetString(3)) ?? [];
        return new DllmModelVersion(reader.GetInt64(0), reader.GetInt32(1), reader.GetInt32(2), metrics, reader.GetDateTime(4));
    }

    public async Task<byte[]> LoadCheckpointAsync(long version, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select checkpoint from dllm_models where deployment = $1 and version = $2");
        cmd.Parameters.AddWithValue(deployment);
        cmd.Parameters.AddWithValue(version);
        return await cmd.ExecuteScalarAsync(ct) as byte[]
            ?? throw new InvalidOperationException($"dllm model version {version} of deployment '{deployment}' is missing from dllm_models.");
    }

    /// <summary>Records the next version; returns its number.</summary>
    public async Task<long> AddVersionAsync(int trainingWindows, int steps, IReadOnlyDictionary<string, double> metrics, byte[] checkpoint, CancellationToken ct)
    {
        // Metrics that are not numbers (no [FILL] scored) are left out: JSON has no NaN.
        var finite = metrics.Where(m => double.IsFinite(m.Value)).ToDictionary(m => m.Key, m => m.Value);
        await using var cmd = db.CreateCommand(
            "insert into dllm_models (deployment, version, training_windows, steps, metrics, checkpoint) " +
            "select $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5 from dllm_models where deployment = $1 returning version");
        cmd.Parameters.AddWithValue(deployment);
        cmd.Parameters.AddWithValue(trainingWindows);
        cmd.Parameters.AddWithValue(steps);
        cmd.Parameters.AddWithValue(NpgsqlDbType.Jsonb, JsonSerializer.Serialize(finite));
        cmd.Parameters.AddWithValue(checkpoint);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
    }

    /// <summary>The model version each of the group's partitions uses, and the offset it is pinned until (absent: none yet).</summary>
    public async Task<Dictionary<int, (long Version, long PinnedUntil)>> LoadPartitionModelsAsync(string group, string topic, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select partition, model_version, pinned_until from dllm_partition_models where consumer_group = $1 and topic = $2");
        cmd.Parameters.AddWithValue(group);
        cmd.Parameters.AddWithValue(topic);
        var result = new Dictionary<int, (long, long)>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) result[reader.GetInt32(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        return result;
    }

    /// <summary>
    /// Written before a batch's outputs go out: records of each partition below its offset may be published with
    /// its version, so that version stays until a replay has passed them.
    /// </summary>
    public async Task PinAsync(string group, string topic, IReadOnlyDictionary<int, (long Version, long Until)> pins, CancellationToken ct)
    {
        if (pins.Count == 0) return;
        await using var cmd = db.CreateCommand(
            "insert into dllm_partition_models (consumer_group, topic, partition, model_version, pinned_until) " +
            "select $1, $2, p, v, u from unnest($3::int[], $4::bigint[], $5::bigint[]) x(p, v, u) " +
            "on conflict (consumer_group, topic, partition) do update set model_version = excluded.model_version, " +
            "pinned_until = greatest(dllm_partition_models.pinned_until, excluded.pinned_until)");
        cmd.Parameters.AddWithValue(group);
        cmd.Parameters.AddWithValue(topic);
        cmd.Parameters.AddWithValue(pins.Keys.ToArray());
        cmd.Parameters.AddWithValue(pins.Values.Select(p => p.Version).ToArray());
        cmd.Parameters.AddWithValue(pins.Values.Select(p => p.Until).ToArray());
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Commits offsets and the model version each partition uses from now on, atomically.</summary>
    public async Task CommitAsync(string group, string topic, IReadOnlyDictionary<int, long> partitionModels, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (partitionModels.Count > 0)
        {
            await using var cmd = new NpgsqlCommand(
                "insert into dllm_partition_models (consumer_group, topic, partition, model_version) " +
                "select $1, $2, p, v from unnest($3::int[], $4::bigint[]) x(p, v) " +
                "on conflict (consumer_group, topic, partition) do update set model_version = excluded.model_version", conn, tx);
            cmd.Parameters.AddWithValue(group);
            cmd.Parameters.AddWithValue(topic);
            cmd.Parameters.AddWithValue(partitionModels.Keys.ToArray());
            cmd.Parameters.AddWithValue(partitionModels.Values.ToArray());
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await PgOffsets.SaveAsync(conn, tx, group, offsets, ct);
        await tx.CommitAsync(ct);
    }
}
