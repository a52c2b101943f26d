using Npgsql;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tools.Bench;

namespace ReaSeq.Tests.Operations;

/// <summary>Several `reaseq run` processes of one role as one consumer group, joining and leaving while records flow.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class ScaleOutTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Partitions_move_on_scale_up_and_scale_down_while_records_flow_and_nothing_is_lost()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var cluster = new ScaleOutCluster(Cli.CliProcess.PathOf("reaseq"), "ingest", connectionString);
        const int chunk = 3_000;
        var a = await cluster.StartMemberAsync(CancellationToken.None);
        ScalingBenchmark.Publish(cluster.Kafka, ScalingBenchmark.Workload(chunk, 0));
        var b = await cluster.StartMemberAsync(CancellationToken.None);           // scale up to 2
        ScalingBenchmark.Publish(cluster.Kafka, ScalingBenchmark.Workload(chunk, chunk));
        var c = await cluster.StartMemberAsync(CancellationToken.None);           // scale up to 3
        await cluster.WaitForBalanceAsync("ingest-clicks", CancellationToken.None);
        ScalingBenchmark.Publish(cluster.Kafka, ScalingBenchmark.Workload(chunk, 2 * chunk));
        await TestPlatform.WaitUntilAsync(async () => (await cluster.RecordsInAsync("reaseq.ingest-clicks", CancellationToken.None)).Sum() >= 3 * chunk,
            TimeSpan.FromSeconds(60), "the three members consumed what was published so far");
        var consumedByNewMembers = (await cluster.RecordsInAsync("reaseq.ingest-clicks", CancellationToken.None)).Skip(1).ToList();
        var publishing = Task.Run(() => ScalingBenchmark.Publish(cluster.Kafka, ScalingBenchmark.Workload(chunk, 3 * chunk)));
        await cluster.StopMemberAsync(a);                                          // scale down to 2 while records flow
        await publishing;
        await cluster.WaitForBalanceAsync("ingest-clicks", CancellationToken.None);
        publishing = Task.Run(() => ScalingBenchmark.Publish(cluster.Kafka, ScalingBenchmark.Workload(chunk, 4 * chunk)));
        await cluster.StopMemberAsync(b);                                          // and to 1
        await publishing;

        await using var db = NpgsqlDataSource.Create(connectionString);
        async Task<(long Rows, long Events)> StoredAsync()
        {
            await using var cmd = db.CreateCommand("select count(*), count(distinct event_id) from user_clicks");
            await using var reader = await cmd.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (reader.GetInt64(0), reader.GetInt64(1));
        }
        await TestPlatform.WaitUntilAsync(async () => (await StoredAsync()).Events >= 5 * chunk, TimeSpan.FromSeconds(60),
            "every published click stored by the remaining member");
        Assert.Equal((5L * chunk, 5L * chunk), await StoredAsync()); // nothing lost, nothing stored twice
        Assert.Equal(0, cluster.BrokerLagWithin("reaseq.ingest-clicks", ReaSeq.Contracts.Topics.Clicks, TimeSpan.FromSeconds(10)));
        Assert.All(consumedByNewMembers, n => Assert.True(n > 0, "members that joined took over partitions and consumed"));
        Assert.Single(cluster.Members, c);
    }

    [Fact]
    public async Task Sequence_outputs_of_three_processes_equal_the_single_process_run()
    {
        var single = await ScalingBenchmark.RunOnceAsync(postgres.AdminConnectionString, "sequence", 1, CancellationToken.None, events: 8_000);
        var three = await ScalingBenchmark.RunOnceAsync(postgres.AdminConnectionString, "sequence", 3, CancellationToken.None, events: 8_000);
        Assert.Equal(single["output_digest"]!.GetValue<string>(), three["output_digest"]!.GetValue<string>());
        Assert.StartsWith("2000:", single["output_digest"]!.GetValue<string>()); // every user has an update
        Assert.All(three["records_per_process"]!.AsArray(), n => Assert.True(n!.GetValue<long>() > 0));
    }
}
