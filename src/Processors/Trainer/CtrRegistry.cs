using Npgsql;
using NpgsqlTypes;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Processors.Trainer;

/// <summary>
/// The CTR model registry in PostgreSQL (table ctr_models, migration 0005). Exactly one version is 'active': the
/// newest published one, or the one a rollback chose. Rankers load the active row's checkpoint with
/// <see cref="Models.Ctr.CtrModelCheckpoint.Load"/>.
/// </summary>
public sealed class CtrRegistry(NpgsqlDataSource db)
{
    public const string Active = "active";
    public const string Superseded = "superseded";
    public const string RolledBack = "rolled_back";
    private const string Columns = "version, seq, created_at, status, config::text, metrics::text, lineage::text";

    public NpgsqlDataSource Database => db;

    public async Task<CtrModelRecord?> ActiveAsync(CancellationToken ct) =>
        (await QueryAsync($"select {Columns} from ctr_models where status = 'active'", ct)).SingleOrDefault();

    public async Task<CtrModelRecord?> GetAsync(string version, CancellationToken ct) =>
        (await QueryAsync($"select {Columns} from ctr_models where version = $1", ct, version)).SingleOrDefault();

    public Task<IReadOnlyList<CtrModelRecord>> ListAsync(int limit, CancellationToken ct) =>
        QueryAsync($"select {Columns} from ctr_models order by seq desc limit {Math.Max(1, limit)}", ct);

    /// <summary>The checkpoint bytes of <paramref name="version"/>, or null when the row or its bytes are gone.</summary>
    public async Task<byte[]?> CheckpointAsync(string version, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select checkpoint from ctr_models where version = $1 and length(checkpoint) > 0");
        cmd.Parameters.AddWithValue(version);
        return await cmd.ExecuteScalarAsync(ct) as byte[];
    }

    public async Task<long> NextSeqAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select coalesce(max(seq), 0) + 1 from ctr_models");
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Inserts a new active version (the previous active one becomes superseded) and, in the same transaction, the
    /// consumer offsets its weights have trained through, so a restarted trainer resumes exactly from this version.
    /// Checkpoint bytes of superseded versions beyond the newest <paramref name="keepCheckpoints"/> are dropped.
    /// </summary>
    public async Task PublishAsync(string consumerGroup, string version, long seq, byte[] checkpoint, string config, string metrics, string lineage,
        IReadOnlyList<PartitionOffset> offsets, int keepCheckpoints, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var supersede = new NpgsqlCommand("update ctr_models set status = 'superseded' where status = 'active'", conn, tx))
            await supersede.ExecuteNonQueryAsync(ct);
        await using (var insert = new NpgsqlCommand(
            "insert into ctr_models (version, seq, checkpoint, config, metrics, lineage, status) values ($1, $2, $3, $4, $5, $6, 'active')", conn, tx))
        {
            insert.Parameters.AddWithValue(version);
            insert.Parameters.AddWithValue(seq);
            insert.Parameters.AddWithValue(checkpoint);
            insert.Parameters.Add(new NpgsqlParameter { Value = config, NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter { Value = metrics, NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter { Value = lineage, NpgsqlDbType = NpgsqlDbType.Jsonb });
            await insert.ExecuteNonQueryAsync(ct);
        }
        if (keepCheckpoints > 0)
        {
            await using var prune = new NpgsqlCommand(
                "update ctr_models set checkpoint = ''::bytea where status <> 'active' and seq <= $1 and length(checkpoint) > 0", conn, tx);
            prune.Parameters.AddWithValue(seq - keepCheckpoints);
            await prune.ExecuteNonQueryAsync(ct);
        }
        await PgOffsets.SaveAsync(conn, tx, consumerGroup, offsets, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// Makes <paramref name="version"/> the active one again; the versions newer than it become 'rolled_back'. The
    /// running trainer notices at its next version and continues from the rolled-back-to weights.
    /// </summary>
    public async Task<CtrModelRecord> RollbackAsync(string version, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        long seq;
        await using (var find = new NpgsqlCommand("select seq, length(checkpoint) from ctr_models where version = $1 for update", conn, tx))
        {
            find.Parameters.AddWithValue(version);
            await using var reader = await find.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) throw new ArgumentException($"No CTR model version '{version}' in the registry.", nameof(version));
            seq = reader.GetInt64(0);
            if (reader.GetInt32(1) == 0)
                throw new ArgumentException($"Version '{version}' has no checkpoint any more (pruned by Trainer:KeepCheckpoints); choose a newer one.", nameof(version));
        }
        await using (var demote = new NpgsqlCommand(
            "update ctr_models set status = case when seq > $1 then 'rolled_back' else 'superseded' end where status = 'active' or seq > $1", conn, tx))
        {
            demote.Parameters.AddWithValue(seq);
            await demote.ExecuteNonQueryAsync(ct);
        }
        await using (var promote = new NpgsqlCommand("update ctr_models set status = 'active' where version = $1", conn, tx))
        {
            promote.Parameters.AddWithValue(version);
            await promote.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return (await GetAsync(version, ct))!;
    }

    private async Task<IReadOnlyList<CtrModelRecord>> QueryAsync(string sql, CancellationToken ct, params object[] parameters)
    {
        await using var cmd = db.CreateCommand(sql);
        foreach (var p in parameters) cmd.Parameters.AddWithValue(p);
        var rows = new List<CtrModelRecord>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new CtrModelRecord(reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), reader.GetString(6)));
        }
        return rows;
    }
}
