using Microsoft.Extensions.Logging;
using Npgsql;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>
/// Applies the embedded SQL migrations (State/Migrations/NNNN_name.sql) in order, each in its own transaction,
/// under an advisory lock so several instances starting together apply each one exactly once.
/// </summary>
public static class Migrator
{
    private const long LockKey = 0x5265615365710001; // "ReaSeq" + 1

    public static async Task ApplyAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand($"select pg_advisory_lock({LockKey})", conn)) await lockCmd.ExecuteNonQueryAsync(ct);
        try
        {
            await using (var create = new NpgsqlCommand(
                "create table if not exists schema_migrations (version int primary key, name text not null, applied_at timestamptz not null default now())", conn))
            {
                await create.ExecuteNonQueryAsync(ct);
            }

            var applied = new HashSet<int>();
            await using (var read = new NpgsqlCommand("select version from schema_migrations", conn))
            await using (var reader = await read.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct)) applied.Add(reader.GetInt32(0));

            foreach (var (version, name, sql) in Embedded())
            {
                if (applied.Contains(version)) continue;
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var migrate = new NpgsqlCommand(sql, conn, tx)) await migrate.ExecuteNonQueryAsync(ct);
                await using (var record = new NpgsqlCommand("insert into schema_migrations (version, name) values ($1, $2)", conn, tx))
                {
                    record.Parameters.AddWithValue(version);
                    record.Parameters.AddWithValue(name);
                    await record.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                logger.LogInformation("PostgreSQL: applied migration {Version} {Name}", version, name);
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"select pg_advisory_unlock({LockKey})", conn);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static IEnumerable<(int Version, string Name, string Sql)> Embedded()
    {
        var assembly = typeof(Migrator).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("migrations/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var file = resource["migrations/".Length..];
            var version = int.Parse(file[..4]);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            yield return (version, Path.GetFileNameWithoutExtension(file), reader.ReadToEnd());
        }
    }
}
