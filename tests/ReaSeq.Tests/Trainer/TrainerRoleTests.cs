using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Models.Ctr;
using ReaSeq.Models.Training;
using ReaSeq.Processors.Trainer;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Trainer;

[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class TrainerRoleTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Features_read_from_postgres_never_see_a_click_made_after_the_impression()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 1);
        await TrainerWorld.SeedItemsAsync(platform.Db, items: 6);
        await TrainerWorld.ClickAsync(platform.Db, "u", 0, "i0", TrainerWorld.T0 + 100);
        await TrainerWorld.ClickAsync(platform.Db, "u", 1, "i2", TrainerWorld.T0 + 200);
        await TrainerWorld.ClickAsync(platform.Db, "v", 0, "i1", TrainerWorld.T0 + 150);
        var options = TrainerWorld.Options();
        var impression = new LabeledImpression { ImpressionId = "x", UserId = "u", ItemId = "i1", TsMs = TrainerWorld.T0 + 1_000, Label = 1 };

        var before = (await new PostgresFeatureSource(platform.Db, options).BuildAsync([impression], default)).Examples.Single();
        // The click this impression produced (same time) and later clicks, by the user and on the candidate.
        await TrainerWorld.ClickAsync(platform.Db, "u", 2, "i1", TrainerWorld.T0 + 1_000);
        await TrainerWorld.ClickAsync(platform.Db, "u", 3, "i3", TrainerWorld.T0 + 5_000);
        await TrainerWorld.ClickAsync(platform.Db, "w", 0, "i1", TrainerWorld.T0 + 2_000);
        var after = (await new PostgresFeatureSource(platform.Db, options).BuildAsync([impression], default)).Examples.Single();

        Assert.Equal(2, after.User.ClickCount);
        Assert.Equal(before.User.History.Select(v => v.ToArray()), after.User.History.Select(v => v.ToArray()));
        Assert.Equal(before.User.History.Select(v => v[0]), new[] { TrainerWorld.Vector(0)[0], TrainerWorld.Vector(2)[0] });
        Assert.Equal(1, after.Candidate.Popularity);
        Assert.Equal(before.Candidate.Popularity, after.Candidate.Popularity);
        Assert.Equal(before.Candidate.KnowledgeVector, after.Candidate.KnowledgeVector);
        Assert.Equal(CtrBuckets.CategoryBucket("topic1"), after.Candidate.CategoryBucket);
    }

    [Fact]
    public async Task Registry_round_trip_scores_identically_and_rollback_moves_the_active_version()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 1);
        var registry = new CtrRegistry(platform.Db);
        using var model = CtrModelFactory.CreateSmall(TorchDevice.Resolve("cpu"), 8, _ => { });
        byte[] first = CtrModelCheckpoint.Save(model);
        await registry.PublishAsync("g", "ctr-000001-a", 1, first, "{}", "{\"auc\": 0.6}", "{}", [], 0, default);
        await registry.PublishAsync("g", "ctr-000002-b", 2, first, "{}", "{}", "{}", [], 0, default);
        await registry.PublishAsync("g", "ctr-000003-c", 3, first, "{}", "{}", "{}", [], 0, default);

        var examples = CtrModelFactory.SyntheticExamples(new Random(4), 12);
        var stored = await registry.CheckpointAsync("ctr-000001-a", default);
        using var scorer = CtrModelCheckpoint.Load(stored!, "ctr-000001-a");
        using var direct = CtrModelCheckpoint.Load(first, "direct");
        var candidates = examples.Select(e => e.Candidate).ToList();
        Assert.Equal(direct.Score(examples[0].User, candidates), scorer.Score(examples[0].User, candidates));
        Assert.Equal("ctr-000003-c", (await registry.ActiveAsync(default))!.Version);

        await registry.RollbackAsync("ctr-000002-b", default);

        var rows = (await registry.ListAsync(10, default)).ToDictionary(r => r.Version, r => r.Status);
        Assert.Equal(CtrRegistry.Superseded, rows["ctr-000001-a"]);
        Assert.Equal(CtrRegistry.Active, rows["ctr-000002-b"]);
        Assert.Equal(CtrRegistry.RolledBack, rows["ctr-000003-c"]);
        await Assert.ThrowsAsync<ArgumentException>(() => registry.RollbackAsync("nope", default));
    }

    [Fact]
    public async Task A_killed_trainer_resumes_from_its_latest_version_and_offsets()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 1);
        await TrainerWorld.SeedItemsAsync(platform.Db, items: 12);
        await TrainerWorld.SeedUsersAsync(platform.Db, users: 10, items: 12);
        // No version falls due by itself during the test: they are published explicitly.
        var options = TrainerWorld.Options(versionIntervalMs: 600_000);
        var partition = new TopicPartition(Topics.Impressions, 0);

        var first = TrainerWorld.NewProcessor(platform, options);
        Assert.Empty(first.OnAssigned([partition]));
        var early = TrainerWorld.Impressions(320, users: 10, items: 12, seed: 1);
        await first.HandleBatchAsync(TrainerWorld.Records(early, 0), default);
        await first.PublishVersionNowAsync(default);
        var version = first.BaseVersion;
        Assert.NotNull(version);
        // More training that never becomes a version, then the process dies (no revoke, no graceful close).
        await first.HandleBatchAsync(TrainerWorld.Records(TrainerWorld.Impressions(64, 10, 12, seed: 2), 320), default);

        var registry = new CtrRegistry(platform.Db);
        var active = (await registry.ActiveAsync(default))!;
        Assert.Equal(version, active.Version);
        Assert.Equal(320, NextOffset(active.Lineage));
        Assert.Contains("sid-test", active.Lineage);
        var announced = platform.ReadToEnd(Topics.CtrModels, partitions: 1);
        var message = new AvroSerde<ModelVersion>().Deserialize(Assert.Single(announced).Message.Value);
        Assert.Equal(version, message.CheckpointRef);
        Assert.True(message.Metrics["auc"] > 0.6, $"prequential AUC {message.Metrics["auc"]:F3} on a world whose labels follow the sequence");

        using var restarted = TrainerWorld.NewProcessor(platform, options);
        var resume = restarted.OnAssigned([partition]);
        Assert.Equal(320, resume[partition]);
        Assert.Equal(version, restarted.BaseVersion);
        await restarted.HandleBatchAsync(TrainerWorld.Records(TrainerWorld.Impressions(64, 10, 12, seed: 2), 320), default);
        await restarted.PublishVersionNowAsync(default);
        var next = (await registry.ActiveAsync(default))!;
        Assert.NotEqual(version, next.Version);
        Assert.Equal(version, System.Text.Json.JsonDocument.Parse(next.Lineage).RootElement.GetProperty("parent").GetString());
        Assert.Equal(384, NextOffset(next.Lineage));
        first.Dispose();
    }

    private static long NextOffset(string lineage) =>
        System.Text.Json.JsonDocument.Parse(lineage).RootElement.GetProperty("input_offsets")[0].GetProperty("next_offset").GetInt64();
}
