using System.Diagnostics;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Ingest;

/// <summary>
/// The ingest role runs as a real `reaseq run` process and is killed with SIGKILL mid-stream; after a restart its
/// state must be identical, row for row, to an uninterrupted run over the same log.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class CrashRecoveryTests(PostgresFixture postgres)
{
    private static Process StartIngest(string bootstrap, string connectionString, string groupPrefix)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "reaseq"), ["run", "--roles", "ingest"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["REASEQ__Kafka__BootstrapServers"] = bootstrap;
        start.Environment["REASEQ__Postgres__ConnectionString"] = connectionString;
        start.Environment["REASEQ__Kafka__GroupPrefix"] = groupPrefix;
        start.Environment["REASEQ__Kafka__MaxBatchSize"] = "300"; // many small transactions: many places to die in
        var process = Process.Start(start)!;
        // Keep the child's log beside the test output: when this test fails, it says why.
        var log = new StreamWriter(Path.Combine(Path.GetTempPath(), $"reaseq-ingest-{groupPrefix}-{process.Id}.log")) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<List<string>> DumpAsync(string connectionString)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        var rows = new List<string>();
        await using var cmd = db.CreateCommand(
            "select user_id || '|' || seq || '|' || event_id || '|' || item_id || '|' || ts_ms || '|' || action || '|' || kafka_partition from user_clicks order by user_id, seq");
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    private static async Task<long> CountAsync(string connectionString)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        await using var cmd = db.CreateCommand("select count(*) from user_clicks");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task An_ingest_process_killed_mid_stream_and_restarted_ends_identical_to_an_uninterrupted_run()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        const int users = 200, events = 30_000;
        var ids = new HashSet<int>();
        for (var i = 0; i < events; i++)
        {
            // Every 20th event repeats the id of the event 201 places earlier (same user): counted once in both runs.
            var id = i % 20 == 19 && i >= 201 ? i - 201 : i;
            ids.Add(id);
            var user = $"u{id % users}";
            platform.Producer.Produce(Topics.Clicks, user, new ClickEvent
            {
                EventId = $"e{id}",
                UserId = user,
                ItemId = $"i{(id * 7) % 997}",
                TsMs = 1_300_000_000_000 + id * 60_000L,
                Action = ClickAction.CLICK,
            });
        }
        platform.Producer.Flush();
        var accepted = ids.Count;
        Assert.True(accepted < events - 1_000);

        var crashed = platform.ConnectionString;
        var victim = StartIngest(platform.Broker.BootstrapServers, crashed, "crash");
        try
        {
            await TestPlatform.WaitUntilAsync(async () => await CountAsync(crashed) > accepted / 4, TimeSpan.FromSeconds(90), "the first process ingests a quarter");
            victim.Kill(entireProcessTree: true); // SIGKILL: no revoke, no close, no flush
            await victim.WaitForExitAsync();
            Assert.InRange(await CountAsync(crashed), 1, accepted - 1);
        }
        finally
        {
            if (!victim.HasExited) victim.Kill(true);
        }

        var restarted = StartIngest(platform.Broker.BootstrapServers, crashed, "crash");
        var reference = await postgres.CreateDatabaseAsync();
        var uninterrupted = StartIngest(platform.Broker.BootstrapServers, reference, "reference");
        try
        {
            await TestPlatform.WaitUntilAsync(async () => await CountAsync(crashed) == accepted && await CountAsync(reference) == accepted,
                TimeSpan.FromSeconds(120), "both runs reach every accepted click");
            await Task.Delay(1_000); // anything extra (a duplicate) would land now
            var afterCrash = await DumpAsync(crashed);
            var clean = await DumpAsync(reference);
            Assert.Equal(accepted, clean.Count);
            Assert.Equal(clean, afterCrash);
        }
        finally
        {
            foreach (var p in new[] { restarted, uninterrupted })
            {
                if (!p.HasExited) p.Kill(true);
                await p.WaitForExitAsync();
            }
        }
    }
}
