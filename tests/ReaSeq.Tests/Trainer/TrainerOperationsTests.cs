using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts;
using ReaSeq.Processors.Trainer;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Trainer;

/// <summary>
/// Issue 10 §5/§8 and issue 12 §4 for the trainer role: one leader per deployment through the PostgreSQL advisory
/// lock (a standby takes over where the leader stopped), retention of ctr_augmented_sequences, and the "model
/// loaded" readiness condition.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class TrainerOperationsTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Two_trainers_elect_one_leader_and_the_standby_takes_over_where_the_leader_stopped()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 1);
        await TrainerWorld.SeedItemsAsync(platform.Db, items: 12);
        await TrainerWorld.SeedUsersAsync(platform.Db, users: 10, items: 12);
        var options = TrainerWorld.Options(versionIntervalMs: 500);
        options.LeaderRetryMs = 200;
        var (first, firstProcessor, firstMetrics) = NewWorker(platform, options);
        var (second, secondProcessor, secondMetrics) = NewWorker(platform, options);

        await first.StartAsync(CancellationToken.None);
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(firstMetrics.IsLeader), TimeSpan.FromSeconds(30), "the first trainer leads");
        await second.StartAsync(CancellationToken.None);
        Publish(platform, TrainerWorld.Impressions(200, users: 10, items: 12, seed: 1));
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(firstProcessor.Consumed == 200 && firstMetrics.LatestVersion is not null),
            TimeSpan.FromSeconds(60), "the leader trains and publishes");

        // Only the lock holder trains and publishes; the standby is ready without a model (it trains nothing).
        Assert.False(secondMetrics.IsLeader);
        Assert.Null(secondMetrics.LatestVersion);
        Assert.Equal(0, secondProcessor.Consumed);
        Assert.True((await new TrainerModelReadiness(secondProcessor, secondMetrics).CheckAsync(default)).Ready);
        Assert.False(secondProcessor.ModelLoaded);

        // The leader stops (it publishes what it trained on the way out); the standby takes the lock and resumes
        // from that version and its offsets: it trains only what came after.
        await first.StopAsync(CancellationToken.None);
        var handedOver = firstMetrics.LatestVersion;
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(secondMetrics.IsLeader && secondProcessor.ModelLoaded), TimeSpan.FromSeconds(30),
            "the standby takes over");
        Assert.Equal(handedOver, secondProcessor.BaseVersion);
        Publish(platform, TrainerWorld.Impressions(100, users: 10, items: 12, seed: 2));
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(secondProcessor.Consumed == 100 && secondMetrics.LatestVersion is not null),
            TimeSpan.FromSeconds(60), "the new leader trains and publishes");
        Assert.False(firstMetrics.IsLeader);
        await second.StopAsync(CancellationToken.None);

        var registry = new CtrRegistry(platform.Db);
        var active = (await registry.ActiveAsync(default))!;
        Assert.Equal(secondMetrics.LatestVersion, active.Version);
        var versions = await registry.ListAsync(100, default);
        // Every version descends from the one before it: no two trainers ever published side by side.
        var parents = versions.OrderBy(v => v.Seq).Select(v => System.Text.Json.JsonDocument.Parse(v.Lineage).RootElement.GetProperty("parent").GetString()).ToList();
        Assert.Equal(versions.OrderBy(v => v.Seq).Select(v => v.Version).SkipLast(1), parents.Skip(1));
        first.Dispose();
        second.Dispose();
        firstProcessor.Dispose();
        secondProcessor.Dispose();
    }

    [Fact]
    public async Task Readiness_waits_for_the_leaders_weights()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 1);
        var metrics = new TrainerMetrics();
        using var processor = TrainerWorld.NewProcessor(platform, TrainerWorld.Options());
        var readiness = new TrainerModelReadiness(processor, metrics);
        Assert.True((await readiness.CheckAsync(default)).Ready); // standby (no lock yet): nothing to load

        metrics.Leader(true);
        var loading = await readiness.CheckAsync(default);
        Assert.False(loading.Ready);
        Assert.Contains("loading", loading.Detail);

        processor.OnAssigned([new TopicPartition(Topics.Impressions, 0)]);
        var loaded = await readiness.CheckAsync(default);
        Assert.True(loaded.Ready, loaded.Detail);
        Assert.Contains("fresh initialisation", loaded.Detail);
        metrics.Dispose();
    }

    [Fact]
    public async Task Augmented_sequences_superseded_before_the_retention_cutoff_are_pruned_and_features_stay_the_same()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 1);
        await TrainerWorld.SeedItemsAsync(platform.Db, items: 12);
        await TrainerWorld.SeedUsersAsync(platform.Db, users: 10, items: 12);
        long t0 = TrainerWorld.T0;
        // u0: three fills long before the impressions, one after them; u1: one old fill only.
        foreach (var (user, ts) in new[] { ("u0", t0 + 1_000), ("u0", t0 + 2_000), ("u0", t0 + 3_000), ("u0", t0 + 90_000), ("u1", t0 + 500) })
            await AugmentedAsync(platform, user, ts);
        var options = TrainerWorld.Options(versionIntervalMs: 600_000);
        options.AugmentedRetentionMs = 10_000; // impressions at T0 + 20 s onwards: the cutoff lands near T0 + 10 s
        var probe = new[] { "u0", "u1" }.Select(u => new LabeledImpression { ImpressionId = $"p-{u}", UserId = u, ItemId = "i1", TsMs = t0 + 15_000, Label = 1 }).ToList();
        var features = new PostgresFeatureSource(platform.Db, options);
        var before = (await features.BuildAsync(probe, default)).Examples;

        using var processor = TrainerWorld.NewProcessor(platform, options);
        processor.OnAssigned([new TopicPartition(Topics.Impressions, 0)]);
        await processor.HandleBatchAsync(TrainerWorld.Records(TrainerWorld.Impressions(64, 10, 12, seed: 3), 0), default);
        await processor.PublishVersionNowAsync(default);

        var left = new List<(string, long)>();
        await using (var cmd = platform.Db.CreateCommand("select user_id, ts_ms from ctr_augmented_sequences order by user_id, ts_ms"))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) left.Add((reader.GetString(0), reader.GetInt64(1)));
        }
        // The rows superseded before the cutoff go; each user's newest row before it stays, as do newer ones.
        Assert.Equal([("u0", t0 + 3_000), ("u0", t0 + 90_000), ("u1", t0 + 500)], left);
        // An impression after the cutoff sees exactly the fills it saw before the prune.
        var after = (await new PostgresFeatureSource(platform.Db, options).BuildAsync(probe, default)).Examples;
        for (int i = 0; i < probe.Count; i++)
        {
            Assert.NotNull(before[i].User.Fills);
            Assert.Equal(before[i].User.Fills!.Select(f => f.Vector.ToArray()), after[i].User.Fills!.Select(f => f.Vector.ToArray()));
        }
    }

    private static async Task AugmentedAsync(TestPlatform platform, string user, long ts)
    {
        await using var cmd = platform.Db.CreateCommand(
            "insert into ctr_augmented_sequences (user_id, ts_ms, sequence_version, model_version, observed, fill_positions, fill_vectors) " +
            "values ($1, $2, 1, 'dllm-v1', $3, $4, $5)");
        cmd.Parameters.AddWithValue(user);
        cmd.Parameters.AddWithValue(ts);
        cmd.Parameters.AddWithValue(new[] { "i0", "i2" });
        cmd.Parameters.AddWithValue(new[] { 1 });
        cmd.Parameters.AddWithValue(Enumerable.Range(0, TrainerWorld.Dim).Select(d => (float)((ts / 500 + d) % 7) / 7f).ToArray());
        await cmd.ExecuteNonQueryAsync();
    }

    private static (TrainerWorker Worker, CtrTrainerProcessor Processor, TrainerMetrics Metrics) NewWorker(TestPlatform platform, TrainerOptions options)
    {
        var metrics = new TrainerMetrics();
        var processor = TrainerWorld.NewProcessor(platform, options, metrics);
        var worker = new TrainerWorker(processor, platform.Db, platform.Kafka, platform.KafkaOptions, platform.Health, metrics, options,
            NullLogger<CtrTrainerProcessor>.Instance);
        return (worker, processor, metrics);
    }

    private static void Publish(TestPlatform platform, IEnumerable<LabeledImpression> impressions)
    {
        foreach (var impression in impressions) platform.Producer.Produce(Topics.Impressions, impression.UserId, impression);
        platform.Producer.Flush();
    }
}
