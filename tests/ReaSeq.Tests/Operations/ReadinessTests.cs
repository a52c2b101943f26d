using System.Diagnostics;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Operations;

/// <summary>/readyz follows PostgreSQL: not ready while it is down, ready again when it is back; /healthz stays up.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class ReadinessTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Readiness_flips_when_PostgreSQL_stops_and_returns_when_it_comes_back()
    {
        await using var host = await ManagedHost.StartAsync(await postgres.CreateDatabaseAsync(), ["ingest"],
            new Dictionary<string, string?> { ["Management:ReadinessTimeoutMs"] = "1000" });
        var ready = await host.WaitForStatusAsync("/readyz", 200, TimeSpan.FromSeconds(30));
        Assert.Contains("postgres: ok", ready);
        Assert.Contains("consumers: ok (ingest-clicks: 6 partitions", ready);

        try
        {
            await PgScriptAsync("stop");
            var down = await host.WaitForStatusAsync("/readyz", 503, TimeSpan.FromSeconds(20));
            Assert.Contains("postgres: NOT READY", down);
            Assert.Contains("kafka: ok", down);
            Assert.Equal(200, (await host.GetAsync("/healthz")).Status); // liveness: restarting would not bring PostgreSQL back
        }
        finally
        {
            await PgScriptAsync("start");
            // Pooled connections of this process died with the server: the next tests must not meet them.
            Npgsql.NpgsqlConnection.ClearAllPools();
        }
        var back = await host.WaitForStatusAsync("/readyz", 200, TimeSpan.FromSeconds(30));
        Assert.Contains("postgres: ok", back);
    }

    /// <summary>The test PostgreSQL's own script (the fixture started it the same way).</summary>
    private static async Task PgScriptAsync(string command)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "scripts", "pg.sh"), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["REASEQ_PG_DIR"] = Path.Combine(RepoPaths.Root, ".state", "pg-test");
        start.Environment["REASEQ_PG_PORT"] = Environment.GetEnvironmentVariable("REASEQ_TEST_PG_PORT") ?? "55433";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"scripts/pg.sh {command} failed: {await stderr}");
    }
}
