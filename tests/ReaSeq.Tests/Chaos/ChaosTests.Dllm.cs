using System.Diagnostics;
using Confluent.Kafka;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Trainer;

namespace ReaSeq.Tests.Chaos;

/// <summary>The dllm role under SIGKILL (issue 8 G): every SequenceUpdate becomes one AugmentedSequence, repeats byte-identical.</summary>
public sealed partial class ChaosTests
{
    private const string DllmInput = "gaps.dllm-chaos";
    private const int DllmUsers = 60, DllmItems = 200;

    /// <summary>
    /// One `reaseq run --roles dllm` process killed at random points while SequenceUpdates arrive slice by slice. The
    /// item vectors are seeded into item_knowledge (the same rows in both databases), so the outputs do not depend on
    /// the knowledge role. The faulted run trains its own first version (the trainer is killed too when a kill point
    /// falls into its run); that dllm_models row is handed to the uninterrupted reference run, whose trainer is off, so
    /// both fill with the same weights. Every (user, sequence version) the reference publishes must be published by
    /// the faulted run with the same bytes, and every repeat must be byte-identical.
    /// </summary>
    [Fact]
    public Task Dllm_killed_at_random_points_publishes_every_augmented_sequence_identical_to_an_uninterrupted_run() =>
        GuardedAsync(new ScenarioResult("sigkill-dllm"), Dllm_killed_at_random_points_publishes_every_augmented_sequence_identical_to_an_uninterrupted_runAsync);

    private async Task Dllm_killed_at_random_points_publishes_every_augmented_sequence_identical_to_an_uninterrupted_runAsync(ScenarioResult result, Stopwatch clock)
    {
        await using var platform = await TestPlatform.StartAsync(Postgres);
        foreach (var topic in new[] { DllmInput, "augmented.faulted", "augmented.reference" }) platform.Broker.CreateTopic(topic, 6);
        var world = new ChaosWorld(platform);
        const int slice = 600;
        var kills = ChaosSettings.KillPoints;
        var updates = Enumerable.Range(0, (kills + 1) * slice).Select(DllmUpdate).ToList();
        var faulted = platform.ConnectionString;
        await TrainerWorld.SeedItemsAsync(platform.Db, DllmItems);
        Func<Task<bool>> Done(string topic) => () => Task.FromResult(world.Published(topic) >= updates.Count && AugmentedKeys(platform, topic).Count == updates.Count);

        await world.KillLoopAsync(result, ChaosSettings.RandomFor(result.Name), kills,
            _ => RoleProcess.Start("dllm", DllmEnvironment(world, faulted, "faulted", train: true), "sigkill-dllm", world.Folder),
            s =>
            {
                foreach (var update in updates.Skip(s * slice).Take(slice)) platform.Producer.Produce(DllmInput, update.UserId, update);
                platform.Producer.Flush();
            },
            () => Task.FromResult(world.Published("augmented.faulted")),
            async () => $"augmented published {world.Published("augmented.faulted")} ({AugmentedKeys(platform, "augmented.faulted").Count} distinct of {updates.Count}), " +
                        $"model versions {await ChaosWorld.ScalarAsync(faulted, "select count(*) from dllm_models")}",
            Done("augmented.faulted"), Completion);

        var reference = await Postgres.CreateDatabaseAsync();
        await using (var db = NpgsqlDataSource.Create(reference)) await TrainerWorld.SeedItemsAsync(db, DllmItems);
        Assert.Equal(1, await CopyDllmModelsAsync(faulted, reference));
        await ChaosWorld.ReferenceRunAsync(result, () => RoleProcess.Start("dllm", DllmEnvironment(world, reference, "reference", train: false), "sigkill-dllm-ref", world.Folder),
            Done("augmented.reference"), Completion);

        var clean = platform.ReadToEnd("augmented.reference");
        var after = platform.ReadToEnd("augmented.faulted");
        ChaosWorld.CompareVersions(clean, after, result, r => AugmentedKey(Augmented(r)), everyVersion: true);
        var outputs = clean.Select(Augmented).ToList();
        var fills = outputs.Sum(o => o.Filled.Count);
        Assert.All(after.Select(Augmented), o => Assert.Equal("dllm-v1", o.ModelVersion));
        Assert.True(fills >= updates.Sum(u => u.Gaps.Count), $"the reference run filled {fills} gaps");
        result.Notes = $"one dllm process (collector, trainer, filling job), {updates.Count} SequenceUpdates of {DllmUsers} users in {kills + 1} slices, " +
                       $"batches of at most 16; the faulted run trained dllm-v1 itself, the reference run filled with that row; " +
                       $"{outputs.Count} AugmentedSequences with {fills} filled positions, 3 nearest items each, compared per (user, sequence version)";
        Finish(result, clock);
        Assert.Equal(kills, result.KillPoints);
    }

    private static AugmentedSequence Augmented(ConsumeResult<byte[]?, byte[]?> record) => new AvroSerde<AugmentedSequence>().Deserialize(record.Message.Value);

    private static (string Key, long Version) AugmentedKey(AugmentedSequence output) => (output.UserId, output.SequenceVersion);

    private static HashSet<(string Key, long Version)> AugmentedKeys(TestPlatform platform, string topic) =>
        platform.ReadToEnd(topic).Select(r => AugmentedKey(Augmented(r))).ToHashSet();

    /// <summary>
    /// SequenceUpdate <paramref name="index"/>, a pure function of it: user index mod 60 (its versions rise with the
    /// index), a window of 6-12 of the seeded items, one or two detected gaps and two labeled positions elsewhere.
    /// </summary>
    private static SequenceUpdate DllmUpdate(int index)
    {
        var random = new Random(index);
        int length = random.Next(6, 13), start = random.Next(DllmItems);
        var update = new SequenceUpdate
        {
            UserId = $"u{index % DllmUsers}",
            SequenceVersion = index / DllmUsers + 1,
            Variant = "TemporalOrCategory",
            TsMs = TrainerWorld.T0 + index * 1_000L,
        };
        for (int i = 0; i < length; i++)
            update.Window.Add(new SequenceEntry { ItemId = $"i{(start + i * 5) % DllmItems}", TsMs = TrainerWorld.T0 + index * 1_000L + i, Category = "c" });
        var positions = Enumerable.Range(1, length - 1).OrderBy(_ => random.Next()).Take(2 + random.Next(1, 3)).ToList();
        foreach (var gap in positions.Skip(2).Order())
            update.Gaps.Add(new SequenceGap { Position = gap, Reasons = [GapReason.TD], DeltaMs = 3_600_000, ThresholdMs = 600_000 });
        foreach (var labeled in positions.Take(2).Order())
            update.LabeledPositions.Add(new LabeledPosition { Position = labeled, Delta = 2.5 });
        return update;
    }

    /// <summary>The dllm role at test size: the tiny LLaDA over the 16-wide seeded vectors, small batches (many to die in).</summary>
    private static Dictionary<string, string> DllmEnvironment(ChaosWorld world, string connectionString, string group, bool train) => ChaosWorld.WithKafkaDebug(new()
    {
        ["REASEQ__Kafka__BootstrapServers"] = world.Platform.Broker.BootstrapServers,
        ["REASEQ__Postgres__ConnectionString"] = connectionString,
        ["REASEQ__Kafka__GroupPrefix"] = group,
        ["REASEQ__Kafka__MaxBatchSize"] = "16",
        ["REASEQ__Dllm__InputTopic"] = DllmInput,
        ["REASEQ__Dllm__OutputTopic"] = "augmented." + group,
        ["REASEQ__Dllm__Deployment"] = "chaos",
        ["REASEQ__Dllm__Nearest"] = "3",
        ["REASEQ__Dllm__MicroBatch"] = "8",
        ["REASEQ__Dllm__CpuThreads"] = "1",
        ["REASEQ__Dllm__ModelCheckMs"] = "500",
        ["REASEQ__Dllm__VectorStore__Dimension"] = TrainerWorld.Dim.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["REASEQ__Dllm__Trainer__Enabled"] = train ? "true" : "false",
        ["REASEQ__Dllm__Trainer__CheckIntervalMs"] = "500",
        ["REASEQ__Dllm__Trainer__MinTrainingWindows"] = "40",
        ["REASEQ__Dllm__Trainer__Steps"] = "30",
        ["REASEQ__Dllm__Trainer__BatchSize"] = "16",
        ["REASEQ__Dllm__Model__Layers"] = "1",
        ["REASEQ__Dllm__Model__ModelDim"] = "16",
        ["REASEQ__Dllm__Model__Heads"] = "2",
        ["REASEQ__Dllm__Model__MaxLength"] = "32",
        ["REASEQ__Dllm__Model__ItemVectorDim"] = TrainerWorld.Dim.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["REASEQ__Dllm__Model__Dropout"] = "0",
        ["REASEQ__Dllm__Model__WarmupSteps"] = "0",
        ["REASEQ__Dllm__Model__TotalSteps"] = "30",
        ["REASEQ__Dllm__Model__Device"] = "cpu",
    });

    /// <summary>The faulted run's model versions, checkpoints included, into the reference database: both fill with the same weights.</summary>
    private static Task<int> CopyDllmModelsAsync(string fromDb, string toDb) => ChaosWorld.CopyRowsAsync(fromDb, toDb,
        "select deployment, version, training_windows, steps, metrics::text, checkpoint from dllm_models",
        "insert into dllm_models (deployment, version, training_windows, steps, metrics, checkpoint) values ($1, $2, $3, $4, $5::jsonb, $6)");
}
