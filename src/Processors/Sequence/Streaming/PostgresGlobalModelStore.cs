using Npgsql;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Processors.Sequence.Streaming;

/// <summary>
/// Versions of the global collaborative model (<c>sequence_models</c>), trained from the ingest role's
/// <c>user_clicks</c> (every user's retained clicks, in time order). One trainer at a time per consumer group
/// (a transaction-scoped advisory lock); every partition loads the latest version.
/// </summary>
public sealed class PostgresGlobalModelStore(NpgsqlDataSource db, string consumerGroup)
{
    public async Task<long> LatestVersionAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select coalesce(max(version), 0) from sequence_models where consumer_group = $1");
        cmd.Parameters.AddWithValue(consumerGroup);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
    }

    public async Task<byte[]> LoadAsync(long version, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select snapshot from sequence_models where consumer_group = $1 and version = $2");
        cmd.Parameters.AddWithValue(consumerGroup);
        cmd.Parameters.AddWithValue(version);
        return await cmd.ExecuteScalarAsync(ct) as byte[]
            ?? throw new InvalidOperationException($"Global sequence model version {version} of group '{consumerGroup}' is missing from sequence_models.");
    }

    /// <summary>Trains and records a new version when the latest is older than <paramref name="refreshMs"/> (or none exists); returns the new version or null.</summary>
    public async Task<long?> TrainIfDueAsync(SwingModelOptions options, long refreshMs, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("select pg_try_advisory_xact_lock(hashtext('reaseq.sequence_models.' || $1))", conn, tx))
        {
            lockCmd.Parameters.AddWithValue(consumerGroup);
            if (await lockCmd.ExecuteScalarAsync(ct) is not true) return null;
        }
        long latest;
        await using (var due = new NpgsqlCommand(
            "select coalesce(max(version), 0), coalesce(extract(epoch from now() - max(created_at)) * 1000, 1e18) from sequence_models where consumer_group = $1", conn, tx))
        {
            due.Parameters.AddWithValue(consumerGroup);
            await using var reader = await due.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            latest = reader.GetInt64(0);
            if (latest > 0 && Convert.ToDouble(reader.GetValue(1)) < refreshMs) return null;
        }
        var clicks = new List<TrainingClick>();
        await using (var read = new NpgsqlCommand("select user_id, item_id, ts_ms from user_clicks order by ts_ms, user_id, seq", conn, tx))
        await using (var reader = await read.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) clicks.Add(new TrainingClick(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        }
        var model = SwingModelTrainer.Train(clicks, options, ct);
        using var stream = new MemoryStream();
        model.WriteSnapshot(stream);
        await using (var insert = new NpgsqlCommand(
            "insert into sequence_models (consumer_group, version, clicks, items, snapshot) values ($1, $2, $3, $4, $5)", conn, tx))
        {
            insert.Parameters.AddWithValue(consumerGroup);
            insert.Parameters.AddWithValue(latest + 1);
            insert.Parameters.AddWithValue((long)clicks.Count);
            insert.Parameters.AddWithValue(model.ItemCount);
            insert.Parameters.AddWithValue(stream.ToArray());
            await insert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return latest + 1;
    }
}
