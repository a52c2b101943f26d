using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Tools.Bench;

/// <summary>The PostgreSQL database a benchmark measures against: the one `make bench` creates fresh, migrated.</summary>
public static class BenchDatabase
{
    public static async Task<NpgsqlDataSource> OpenAsync(CancellationToken ct)
    {
        var connectionString = Environment.GetEnvironmentVariable("REASEQ__Postgres__ConnectionString")
            ?? throw new InvalidOperationException("Set REASEQ__Postgres__ConnectionString (make bench does)");
        var db = NpgsqlDataSource.Create(connectionString);
        await Migrator.ApplyAsync(db, NullLogger.Instance, ct);
        return db;
    }
}
