using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Chaos;

/// <summary>
/// Issue 8 G, the fault-injection suite: real `reaseq run` processes on the embedded Kafka cluster (with its fault API)
/// and a real PostgreSQL, each faulted run compared with an uninterrupted run over the same log. A scenario fails when
/// a record is lost or a repeat differs. `make test` runs it short (2 kill points per role, a 5 s outage); `make chaos`
/// (REASEQ_CHAOS=full) runs ≥ 20 random kill points per role and a 30 s outage and writes bench/results/reliability.json.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed partial class ChaosTests(PostgresFixture postgres)
{
    private static readonly TimeSpan Completion = TimeSpan.FromSeconds(180);

    private PostgresFixture Postgres => postgres;

    /// <summary>A scenario that fails is recorded too (with the failure in its notes): the report never shows only the passing ones.</summary>
    private static async Task GuardedAsync(ScenarioResult result, Func<ScenarioResult, Stopwatch, Task> scenario)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await scenario(result, clock);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException || !result.Recorded)
        {
            result.Seconds = clock.Elapsed.TotalSeconds;
            result.Notes = $"FAILED: {e.GetType().Name}: {e.Message.Split('\n')[0]} | {result.Notes}";
            ReliabilityReport.Record(result);
            throw;
        }
    }

    private static void Finish(ScenarioResult result, Stopwatch clock)
    {
        result.Seconds = clock.Elapsed.TotalSeconds;
        ReliabilityReport.Record(result);
        result.Recorded = true;
        Assert.True(result.RecordsLost == 0, $"{result.Name}: {result.RecordsLost} records lost");
        Assert.True(result.NonIdenticalDuplicates == 0, $"{result.Name}: {result.NonIdenticalDuplicates} non-identical duplicates");
    }

    /// <summary>
    /// One process runs the ingest, sequence and knowledge roles; every SIGKILL interrupts all three, each at its own
    /// point in its stream (one process start and one session timeout per kill point instead of three: on two cores
    /// that is what lets the full suite reach 20 kill points per role).
    /// </summary>
    [Fact]
    public Task Ingest_sequence_and_knowledge_killed_at_random_points_end_identical_to_an_uninterrupted_run() => GuardedAsync(new ScenarioResult("sigkill-ingest-sequence-knowledge"), Ingest_sequence_and_knowledge_killed_at_random_points_end_identical_to_an_uninterrupted_runAsync);

    private async Task Ingest_sequence_and_knowledge_killed_at_random_points_end_identical_to_an_uninterrupted_runAsync(ScenarioResult result, Stopwatch clock)
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        foreach (var topic in new[] { "gaps.faulted", "gaps.reference", "knowledge.faulted", "knowledge.reference" }) platform.Broker.CreateTopic(topic, 6);
        var world = new ChaosWorld(platform);
        const int clickSlice = 1_000, itemSlice = 24;
        var kills = ChaosSettings.KillPoints;
        var accepted = ChaosWorld.AcceptedClicks((kills + 1) * clickSlice);
        // Item slice s: items s*24 … s*24+23, and a second version of every 6th item of the slice before.
        var newest = new Dictionary<string, long>();
        var items = Enumerable.Range(0, kills + 1).Select(s =>
        {
            var updates = Enumerable.Range(s * itemSlice, itemSlice).Select(id => ChaosWorld.Item(id)).ToList();
            if (s > 0) updates.AddRange(Enumerable.Range((s - 1) * itemSlice, itemSlice).Where(id => id % 6 == 0).Select(id => ChaosWorld.Item(id, revision: 1)));
            foreach (var u in updates) newest[u.ItemId] = Math.Max(newest.GetValueOrDefault(u.ItemId), u.TsMs);
            return updates;
        }).ToList();
        var knowledgeSum = newest.Values.Sum();
        const string knowledgeSql = "select coalesce(sum(ts_ms), 0) from item_knowledge";
        async Task<bool> Done(string db, string gaps) =>
            await ChaosWorld.ClickRowsAsync(db) == accepted
            && await ChaosWorld.ScalarAsync(db, "select count(*) from item_knowledge") == newest.Count
            && await ChaosWorld.ScalarAsync(db, knowledgeSql) == knowledgeSum
            && world.SequenceCoverage(gaps) == accepted;
        Dictionary<string, string> Environment(string db, string group) =>
            new(world.ClickEnvironment(db, group, "gaps." + group).Concat(world.KnowledgeEnvironment(db, group, "knowledge." + group)).DistinctBy(kv => kv.Key));
        const string roles = "ingest,sequence,knowledge";
        var faulted = platform.ConnectionString;

        await world.KillLoopAsync(result, ChaosSettings.RandomFor(result.Name), kills,
            _ => RoleProcess.Start(roles, Environment(faulted, "faulted"), "sigkill", world.Folder),
            s =>
            {
                foreach (var u in items[s]) platform.Producer.Produce(Topics.ItemUpdates, u.ItemId, u);
                world.ProduceClicks(s * clickSlice, (s + 1) * clickSlice);
            },
            async () => await ChaosWorld.ClickRowsAsync(faulted) + world.Published("gaps.faulted") + world.Published("knowledge.faulted"),
            async () => $"clicks stored {await ChaosWorld.ClickRowsAsync(faulted)}, updates published {world.Published("gaps.faulted")}, " +
                        $"items known {await ChaosWorld.ScalarAsync(faulted, "select count(*) from item_knowledge")}",
            () => Done(faulted, "gaps.faulted"), Completion);

        var reference = await postgres.CreateDatabaseAsync();
        Assert.True(await ChaosWorld.CopyThresholdsAsync(faulted, "faulted", reference, "reference") > 0, "the faulted run recorded no threshold");
        Assert.True(await ChaosWorld.CopyTaxonomiesAsync(faulted, reference) > 0, "the faulted run recorded no taxonomy");
        await ChaosWorld.ReferenceRunAsync(result, () => RoleProcess.Start(roles, Environment(reference, "reference"), "sigkill-ref", world.Folder),
            () => Done(reference, "gaps.reference"), Completion);

        var perRole = new List<string>();
        void Compare(string role, Action<ScenarioResult> compare)
        {
            var part = new ScenarioResult(role);
            compare(part);
            result.RecordsLost += part.RecordsLost;
            result.NonIdenticalDuplicates += part.NonIdenticalDuplicates;
            result.IdenticalRepeats += part.IdenticalRepeats;
            perRole.Add($"{role}: lost {part.RecordsLost}, non-identical {part.NonIdenticalDuplicates}, identical repeats {part.IdenticalRepeats}");
        }
        var clicksExpected = await ChaosWorld.ClickStateAsync(reference);
        var clicksAfter = await ChaosWorld.ClickStateAsync(faulted);
        var knowledgeExpected = await ChaosWorld.KnowledgeStateAsync(reference);
        var knowledgeAfter = await ChaosWorld.KnowledgeStateAsync(faulted);
        Assert.Equal(accepted, clicksExpected.Count);
        Compare("ingest (user_clicks, every column)", r => ChaosWorld.CompareRows(clicksExpected, clicksAfter, r));
        Compare("sequence (updates: each user's newest, every version both published)",
            r => ChaosWorld.CompareUpdates(platform.ReadToEnd("gaps.reference"), platform.ReadToEnd("gaps.faulted"), r));
        Compare("knowledge (item_knowledge but updated_at, taxonomies)", r => ChaosWorld.CompareRows(knowledgeExpected, knowledgeAfter, r));
        Compare("knowledge (ItemKnowledge records: each item's newest, repeats of a version)",
            r => ChaosWorld.CompareKnowledge(platform.ReadToEnd("knowledge.reference"), platform.ReadToEnd("knowledge.faulted"), r));
        result.Notes = $"one process, roles {roles}; {(kills + 1) * clickSlice} clicks ({accepted} distinct) and {items.Sum(s => s.Count)} item updates " +
                       $"({newest.Count} items) in {kills + 1} slices; knowledge on its default backends (extractive agents, MiniLM, embedded " +
                       $"vector index); batches of 300 clicks / 16 items, sequence checkpoints every second. " + string.Join("; ", perRole);
        Finish(result, clock);
        Assert.Equal(kills, result.KillPoints);
    }

    /// <summary>Waits until the ingest and sequence roles covered <paramref name="positions"/> click positions.</summary>
    private static Func<Task<bool>> ClicksDone(ChaosWorld world, string db, string gaps, int positions)
    {
        var accepted = ChaosWorld.AcceptedClicks(positions);
        return async () => await ChaosWorld.ClickRowsAsync(db) == accepted && world.SequenceCoverage(gaps) == accepted;
    }

    /// <summary>The uninterrupted ingest + sequence run over the same log, compared row for row and update for update.</summary>
    private async Task CompareWithReferenceAsync(ChaosWorld world, ScenarioResult result, string faulted, string faultedGroup, string faultedGaps, int positions)
    {
        var reference = await postgres.CreateDatabaseAsync();
        world.Platform.Broker.CreateTopic("gaps.reference", 6);
        Assert.True(await ChaosWorld.CopyThresholdsAsync(faulted, faultedGroup, reference, "reference") > 0, "the faulted run recorded no threshold");
        await ChaosWorld.ReferenceRunAsync(result,
            () => RoleProcess.Start("ingest,sequence", world.ClickEnvironment(reference, "reference", "gaps.reference"), "clicks-ref", world.Folder),
            ClicksDone(world, reference, "gaps.reference", positions), Completion);
        ChaosWorld.CompareRows(await ChaosWorld.ClickStateAsync(reference), await ChaosWorld.ClickStateAsync(faulted), result);
        ChaosWorld.CompareUpdates(world.Platform.ReadToEnd("gaps.reference"), world.Platform.ReadToEnd(faultedGaps), result);
    }

    // Once an open defect (skipped, a stall > 90 s in 3 of 6 runs): a fetch answered REQUEST_TIMED_OUT reached the poll as
    // a ConsumeException and ended the consumer loop of whichever role drew it. Its fetch errors now reach every consumer
    // of the process, so the scenario fails every time the loop cannot take them (Streaming/ConsumeErrorTests in small).
    [Fact]
    public Task A_broker_outage_request_errors_and_leader_moves_lose_nothing_and_stall_nothing() => GuardedAsync(new ScenarioResult("broker-faults"), A_broker_outage_request_errors_and_leader_moves_lose_nothing_and_stall_nothingAsync);

    private async Task A_broker_outage_request_errors_and_leader_moves_lose_nothing_and_stall_nothingAsync(ScenarioResult result, Stopwatch clock)
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        platform.Broker.CreateTopic("gaps.faulted", 6);
        var world = new ChaosWorld(platform);
        var random = ChaosSettings.RandomFor(result.Name);
        const int slice = 2_000;
        var faulted = platform.ConnectionString;
        var notes = new List<string>();
        async Task<string> Diagnose(int positions) =>
            $"clicks in the log {world.Published(Topics.Clicks)} of {positions} produced, producer failures {platform.Producer.Failed}, " +
            $"rows {await ChaosWorld.ClickRowsAsync(faulted)} of {ChaosWorld.AcceptedClicks(positions)}, " +
            $"sequence coverage {world.SequenceCoverage("gaps.faulted")}";
        async Task CaughtUpAsync(int positions, string after, RoleProcess process)
        {
            try
            {
                await TestPlatform.WaitUntilAsync(ClicksDone(world, faulted, "gaps.faulted", positions), ChaosSettings.StallLimit, $"caught up after {after}");
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message} ({await Diagnose(positions)}): {process.Tail}", e);
            }
        }

        world.ProduceClicks(0, slice);
        await using (var process = RoleProcess.Start("ingest,sequence", world.ClickEnvironment(faulted, "faulted", "gaps.faulted"), "faults", world.Folder))
        {
            result.Runs++;
            await process.Ready.WaitAsync(TimeSpan.FromSeconds(90));
            await TestPlatform.WaitUntilAsync(async () => await ChaosWorld.ClickRowsAsync(faulted) > 0, TimeSpan.FromSeconds(60), "the roles are under way");

            // 1. Every broker down mid-stream (the roles' requests in flight), then up; the next input arrives once it is
            // back, from a new producer: the test's long-lived one, idle through the outage, had its first requests after it
            // hang for socket.timeout.ms (60 s), which timed the test's producer, not the roles.
            platform.Broker.SetAllBrokers(up: false);
            await Task.Delay(ChaosSettings.BrokerOutage);
            process.AssertRunning("during the outage");
            platform.Broker.SetAllBrokers(up: true);
            var recovery = Stopwatch.StartNew();
            using var fresh = new ContractProducer(platform.Kafka, "test-producer-after-outage");
            world.ProduceClicks(slice, 2 * slice, fresh);
            var delivered = recovery.Elapsed.TotalSeconds;
            await CaughtUpAsync(2 * slice, "the outage", process);
            result.Recovered(recovery.Elapsed);
            notes.Add($"every broker down {ChaosSettings.BrokerOutage.TotalSeconds:F0} s mid-stream: the next {slice} clicks stored and published " +
                      $"{recovery.Elapsed.TotalSeconds:F1} s after the brokers returned (the test's own producer delivered them after {delivered:F1} s)");

            // 2. Request errors (rd_kafka_mock_push_request_errors): produce, fetch, offset commit, heartbeat.
            const int NotLeader = 6, TimedOut = 7, CoordinatorNotAvailable = 15, NotCoordinator = 16;
            platform.Broker.PushRequestErrors(0, NotLeader, TimedOut, NotLeader, TimedOut, NotLeader, TimedOut);
            // Enough fetch errors that every consumer of the process draws a REQUEST_TIMED_OUT: the client hands that one to
            // the poll, and the consumer loop used to end on it (the open defect this scenario was skipped for).
            platform.Broker.PushRequestErrors(1, [.. Enumerable.Range(0, 16).SelectMany(_ => new[] { NotLeader, TimedOut })]);
            platform.Broker.PushRequestErrors(8, CoordinatorNotAvailable, NotCoordinator, CoordinatorNotAvailable);
            platform.Broker.PushRequestErrors(12, NotCoordinator, CoordinatorNotAvailable);
            world.ProduceClicks(2 * slice, 2 * slice + slice / 2, fresh);
            recovery.Restart();
            await CaughtUpAsync(2 * slice + slice / 2, "request errors", process);
            result.Recovered(recovery.Elapsed);
            notes.Add($"request errors on produce, fetch, offset commit and heartbeat: the next {slice / 2} clicks stored and published in {recovery.Elapsed.TotalSeconds:F1} s");

            // 3. Partition leaders move (rd_kafka_mock_partition_set_leader) mid-stream, on the input and the output topic.
            var producing = Task.Run(() => world.ProduceClicks(2 * slice + slice / 2, 3 * slice, fresh));
            for (var round = 0; round < 3; round++)
            {
                foreach (var topic in new[] { Topics.Clicks, "gaps.faulted" })
                    for (var p = 0; p < 6; p++) platform.Broker.SetPartitionLeader(topic, p, random.Next(1, platform.Broker.Brokers + 1));
                await Task.Delay(400);
            }
            await producing;
            recovery.Restart();
            await CaughtUpAsync(3 * slice, "leader moves", process);
            result.Recovered(recovery.Elapsed);
            notes.Add($"3 rounds of leader moves on every partition of the input and output topics while {slice / 2} clicks arrive: " +
                      $"all stored and published {recovery.Elapsed.TotalSeconds:F1} s after the last move");
            process.AssertRunning("after the faults");
            await Task.Delay(1_000);
        }

        await CompareWithReferenceAsync(world, result, faulted, "faulted", "gaps.faulted", 3 * slice);
        result.Notes = $"ingest+sequence in one process, {3 * slice} clicks; " + string.Join("; ", notes);
        Finish(result, clock);
    }

    [Fact]
    public Task PostgreSQL_restarted_mid_run_the_roles_recover_without_an_operator() => GuardedAsync(new ScenarioResult("postgres-restart"), PostgreSQL_restarted_mid_run_the_roles_recover_without_an_operatorAsync);

    private async Task PostgreSQL_restarted_mid_run_the_roles_recover_without_an_operatorAsync(ScenarioResult result, Stopwatch clock)
    {
        // A private cluster: restarting the one the other tests share would break their pooled connections.
        var port = int.Parse(Environment.GetEnvironmentVariable("REASEQ_TEST_PG_PORT") ?? "55433", System.Globalization.CultureInfo.InvariantCulture) + 100;
        var pg = new PrivatePostgres(Path.Combine(RepoPaths.Root, ".state", "pg-chaos"), port);
        try
        {
            var faulted = await pg.FreshAsync("chaos_restart");
            await using (var db = NpgsqlDataSource.Create(faulted)) await Migrator.ApplyAsync(db, NullLogger.Instance);
            await using var platform = await TestPlatform.StartAsync(postgres);
            platform.Broker.CreateTopic("gaps.faulted", 6);
            var world = new ChaosWorld(platform);
            const int slice = 3_000;
            var down = TimeSpan.FromSeconds(ChaosSettings.Full ? 15 : 4);
            var restarts = ChaosSettings.Full ? 3 : 1;

            world.ProduceClicks(0, slice);
            await using (var process = RoleProcess.Start("ingest,sequence", world.ClickEnvironment(faulted, "pgfault", "gaps.faulted"), "pg-restart", world.Folder))
            {
                result.Runs++;
                await process.Ready.WaitAsync(TimeSpan.FromSeconds(90));
                // Restart r: slice 2r arrives and is being written when PostgreSQL stops; slice 2r+1 arrives while it is down.
                for (var r = 0; r < restarts; r++)
                {
                    var before = await ChaosWorld.ClickRowsAsync(faulted);
                    var from = 2 * r * slice;
                    var arriving = r == 0 ? Task.CompletedTask : Task.Run(() => world.ProduceClicks(from, from + slice));
                    await TestPlatform.WaitUntilAsync(async () => await ChaosWorld.ClickRowsAsync(faulted) > before, TimeSpan.FromSeconds(60), "the roles are writing");
                    await pg.StopAsync();
                    await arriving;
                    var producing = Task.Run(() => world.ProduceClicks(from + slice, from + 2 * slice));
                    await Task.Delay(down);
                    process.AssertRunning("while PostgreSQL is down");
                    await pg.StartAsync();
                    var recovery = Stopwatch.StartNew();
                    await producing;
                    await TestPlatform.WaitUntilAsync(ClicksDone(world, faulted, "gaps.faulted", from + 2 * slice), ChaosSettings.StallLimit,
                        $"caught up after PostgreSQL restart {r + 1}: {process.Tail}");
                    result.Recovered(recovery.Elapsed);
                }
                process.AssertRunning("after the restarts");
                await Task.Delay(1_000);
            }
            await CompareWithReferenceAsync(world, result, faulted, "pgfault", "gaps.faulted", 2 * restarts * slice);
            result.Notes = $"ingest+sequence in one process, {2 * restarts * slice} clicks; PostgreSQL stopped (-m fast) {restarts}× for " +
                           $"{down.TotalSeconds:F0} s mid-stream and started again; recovery: from the restart until every click is stored and published";
        }
        finally
        {
            await pg.StopAsync();
        }
        Finish(result, clock);
    }

    [Fact]
    public Task SIGTERM_under_load_exits_within_10_s_and_the_restart_loses_nothing() => GuardedAsync(new ScenarioResult("sigterm-under-load"), SIGTERM_under_load_exits_within_10_s_and_the_restart_loses_nothingAsync);

    private async Task SIGTERM_under_load_exits_within_10_s_and_the_restart_loses_nothingAsync(ScenarioResult result, Stopwatch clock)
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        platform.Broker.CreateTopic("gaps.faulted", 6);
        var world = new ChaosWorld(platform);
        var random = ChaosSettings.RandomFor(result.Name);
        const int slice = 4_000;
        var terminations = ChaosSettings.Terminations;
        var faulted = platform.ConnectionString;
        var busy = 0;
        long atStop = -1;
        double slowest = 0;
        for (var life = 0; life <= terminations; life++)
        {
            world.ProduceClicks(life * slice, (life + 1) * slice);
            await using var process = RoleProcess.Start("ingest,sequence", world.ClickEnvironment(faulted, "faulted", "gaps.faulted"), "sigterm", world.Folder);
            result.Runs++;
            var start = Stopwatch.StartNew();
            // The first life has nothing to stand on (no rows yet): it must write one. Every life must also be up before its
            // SIGTERM: a signal that lands while the runtime is still starting, before any handler exists, ends the process
            // with the default action (exit 143), which says nothing about the roles' shutdown.
            var stood = Math.Max(atStop, 0);
            await TestPlatform.WaitUntilAsync(async () =>
            {
                process.AssertRunning("before SIGTERM");
                return process.Ready.IsCompleted && await ChaosWorld.ClickRowsAsync(faulted) > stood;
            }, ChaosSettings.StallLimit, $"life {life} is up and writing: {process.Tail}");
            if (life > 0) result.Recovered(start.Elapsed);
            if (life == terminations)
            {
                await TestPlatform.WaitUntilAsync(ClicksDone(world, faulted, "gaps.faulted", (life + 1) * slice), Completion, $"the last life completes: {process.Tail}");
                await Task.Delay(1_000);
                break;
            }
            await Task.Delay(random.Next(0, 600));
            var rows = await ChaosWorld.ClickRowsAsync(faulted);
            if (rows < ChaosWorld.AcceptedClicks((life + 1) * slice)) busy++;
            var (seconds, exitCode) = await process.TerminateAsync(TimeSpan.FromSeconds(30));
            slowest = Math.Max(slowest, seconds);
            result.SigtermExitSeconds = Math.Round(slowest, 2);
            Assert.True(exitCode == 0, $"exit code {exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} {seconds:F1} s after SIGTERM: {process.Tail}");
            Assert.True(seconds < 10, $"{seconds:F1} s from SIGTERM to exit: {process.Tail}");
            atStop = await ChaosWorld.ClickRowsAsync(faulted);
        }
        await CompareWithReferenceAsync(world, result, faulted, "faulted", "gaps.faulted", (terminations + 1) * slice);
        result.Notes = $"ingest+sequence in one process, {terminations} SIGTERMs ({busy} with input still unprocessed), {(terminations + 1) * slice} clicks; " +
                       "recovery: from a restart until new rows commit";
        Finish(result, clock);
    }

    /// <summary>A PostgreSQL cluster of this test's own (scripts/pg.sh on a private folder and port).</summary>
    private sealed class PrivatePostgres(string folder, int port)
    {
        private async Task<string> RunAsync(params string[] args)
        {
            var start = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "scripts", "pg.sh"), .. args])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["REASEQ_PG_DIR"] = folder;
            start.Environment["REASEQ_PG_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0) throw new InvalidOperationException($"scripts/pg.sh {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}");
            return (await stdout).Trim().Split('\n')[^1];
        }

        public Task<string> FreshAsync(string database) => RunAsync("fresh", database);

        public Task StartAsync() => RunAsync("start");

        public Task StopAsync() => RunAsync("stop");
    }
}
