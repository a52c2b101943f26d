using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL for the tests, started by the project's own script on a private folder and port
/// (REASEQ_TEST_PG_PORT, default 55433). Every test gets a fresh database with the migrations applied.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private string _adminConnectionString = "";

    public async Task InitializeAsync()
    {
        var port = Environment.GetEnvironmentVariable("REASEQ_TEST_PG_PORT") ?? "55433";
        var start = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "scripts", "pg.sh"), "start"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["REASEQ_PG_DIR"] = Path.Combine(RepoPaths.Root, ".state", "pg-test");
        start.Environment["REASEQ_PG_PORT"] = port;
        using var process = Process.Start(start)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"scripts/pg.sh start failed ({process.ExitCode}): {stderr}");
        _adminConnectionString = stdout.Trim().Split('\n')[^1];
    }

    /// <summary>The server's administrative connection (for tests that create their own databases).</summary>
    public string AdminConnectionString => _adminConnectionString;

    /// <summary>Creates an empty database with the platform schema and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = new NpgsqlConnection(_adminConnectionString))
        {
            await admin.OpenAsync();
            await using var cmd = new NpgsqlCommand($"create database {name}", admin);
            await cmd.ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name }.ConnectionString;
        await using var db = NpgsqlDataSource.Create(connectionString);
        await Migrator.ApplyAsync(db, NullLogger.Instance);
        return connectionString;
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PostgresFixture>
{
    // Tests that start brokers, databases and consumers run one at a time: the machine has two cores.
    public const string Name = "platform";
}
