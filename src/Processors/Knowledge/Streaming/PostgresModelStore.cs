using Npgsql;
using NpgsqlTypes;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// Trained models kept in the deployment's own database (tables <c>model_checkpoints</c> and <c>current_models</c>),
/// so a model lives and dies with the deployment that trained it (issue 8 D13) and every process of the deployment
/// follows the same current version (D14). Also reads the deployment's identity.
/// </summary>
public sealed class PostgresModelStore(NpgsqlDataSource db)
{
    public const string SemanticIdKind = "rqvae";
    public const string IuiKind = "iui";

    /// <summary>The deployment's identity (a UUID created with its schema).</summary>
    public async Task<string> DeploymentIdAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select id::text from deployment");
        return (string)(await cmd.ExecuteScalarAsync(ct) ?? throw new InvalidOperationException("The deployment table is empty; migration 0007 did not run."));
    }

    /// <summary>Stores a checkpoint and makes it the current one of its kind, in one transaction.</summary>
    public async Task PublishAsync(string kind, string version, byte[] body, string metaJson, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var save = new NpgsqlCommand(
            "insert into model_checkpoints (kind, version, body, meta) values ($1, $2, $3, $4) on conflict (kind, version) do nothing", conn, tx))
        {
            save.Parameters.AddWithValue(kind);
            save.Parameters.AddWithValue(version);
            save.Parameters.AddWithValue(body);
            save.Parameters.Add(new NpgsqlParameter { Value = metaJson, NpgsqlDbType = NpgsqlDbType.Jsonb });
            await save.ExecuteNonQueryAsync(ct);
        }
        await using (var current = new NpgsqlCommand(
            "insert into current_models (kind, version, meta) values ($1, $2, $3) " +
            "on conflict (kind) do update set version = excluded.version, meta = excluded.meta, updated_at = now()", conn, tx))
        {
            current.Parameters.AddWithValue(kind);
            current.Parameters.AddWithValue(version);
            current.Parameters.Add(new NpgsqlParameter { Value = metaJson, NpgsqlDbType = NpgsqlDbType.Jsonb });
            await current.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>The current version of a kind and its metadata (JSON), or null when none was published.</summary>
    public async Task<(string Version, string MetaJson)?> CurrentAsync(string kind, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select version, meta::text from current_models where kind = $1");
        cmd.Parameters.AddWithValue(kind);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetString(0), reader.GetString(1)) : null;
    }

    public async Task<byte[]?> LoadAsync(string kind, string version, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select body from model_checkpoints where kind = $1 and version = $2");
        cmd.Parameters.AddWithValue(kind);
        cmd.Parameters.AddWithValue(version);
        return await cmd.ExecuteScalarAsync(ct) as byte[];
    }

    /// <summary>Versions stored for a kind, oldest first.</summary>
    public async Task<List<string>> VersionsAsync(string kind, CancellationToken ct)
    {
        var versions = new List<string>();
        await using var cmd = db.CreateCommand("select version from model_checkpoints where kind = $1 order by created_at, version");
        cmd.Parameters.AddWithValue(kind);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) versions.Add(reader.GetString(0));
        return versions;
    }
}
