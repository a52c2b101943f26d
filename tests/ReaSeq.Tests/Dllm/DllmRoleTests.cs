using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Dllm;

/// <summary>The dllm role end to end on a synthetic world, through the embedded broker and PostgreSQL.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class DllmRoleTests(PostgresFixture postgres)
{
    private const int Users = 150;

    [Fact]
    public async Task Fills_every_gap_with_the_trained_version_masks_unknown_items_and_dead_letters_bad_input_with_its_reason()
    {
        await using var world = await DllmWorld.StartAsync(postgres);
        var random = new Random(11);
        var walks = Enumerable.Range(0, Users).Select(u => DllmWorld.Walk($"user-{u:D3}", random)).ToList();
        world.Publish(walks.Select(w => w.Update));
        var (unknown, _) = DllmWorld.Walk("user-ghost", random);
        unknown.Window[3].ItemId = "ghost-item";
        // An item the knowledge role has not reasoned about yet is not bad input (it was dead-lettered once, which lost
        // most updates whenever knowledge lagged behind the clicks): it enters as [MASK] and the output names it.
        var (allUnknown, _) = DllmWorld.Walk("user-all-ghosts", random);
        foreach (var entry in allUnknown.Window) entry.ItemId = $"ghost-{entry.ItemId}";
        var (oversized, _) = DllmWorld.Walk("user-long", random);
        oversized.Window.AddRange(Enumerable.Range(0, 15).Select(i => new SequenceEntry { ItemId = DllmWorld.Item(i), TsMs = 1 }));
        var empty = new SequenceUpdate { UserId = "user-empty", SequenceVersion = 1, Variant = "TemporalOrCategory", TsMs = 1 };
        world.Publish([unknown, allUnknown, oversized, empty]);
        world.Platform.Producer.ProduceRaw(Topics.SequenceGaps, "user-garbage"u8.ToArray(), [1, 2, 3, 4]);
        world.Platform.Producer.Flush();
        const int total = Users + 5;

        // No model yet: the trainer waits for enough windows; the collector keeps the labeled ones.
        var trainer = world.NewTrainer();
        Assert.Null(await trainer.TrainIfDueAsync(force: false, CancellationToken.None));
        var collector = world.NewCollector();
        world.Platform.Run(collector, "collector");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(collector.Consumed == total), TimeSpan.FromSeconds(60), "windows kept");
        Assert.Equal(Users + 2, await world.Store.CountWindowsAsync(CancellationToken.None)); // the unknown-item windows are kept, not trained on

        var version = await trainer.TrainIfDueAsync(force: false, CancellationToken.None);
        Assert.NotNull(version);
        Assert.Equal(1, version.Version);
        Assert.Null(await trainer.TrainIfDueAsync(force: false, CancellationToken.None)); // not due again so soon
        // §4.2.1 on the held-out users: [MASK] is identified from its ring neighbours far above chance (1 in ~30).
        Assert.InRange(version.Metric("heldout_sequences"), 10, 40);
        Assert.True(version.Metric("mask_ib_acc") > 0.3, $"mask IB-ACC {version.Metric("mask_ib_acc")}");
        Assert.True(double.IsFinite(version.Metric("fill_ib_acc")) && double.IsFinite(version.Metric("fill_ib_ppl")));
        Assert.Equal(1, version.Metric("sampling_bias_correction")); // trained with Eq. 7's correction, the default

        var filler = world.NewFiller();
        await filler.WaitForModelAsync(CancellationToken.None);
        world.Platform.Run(filler, "filler");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(filler.Consumed == total), TimeSpan.FromSeconds(60), "updates filled");

        var records = world.Platform.ReadAll(Topics.AugmentedSequences, Users + 2, TimeSpan.FromSeconds(30));
        Assert.Equal(Users + 2, records.Count);
        var serde = new AvroSerde<AugmentedSequence>();
        var outputs = records.Select(r => serde.Deserialize(r.Message.Value)).ToDictionary(o => o.UserId);
        int hits = 0;
        foreach (var (update, hidden) in walks)
        {
            var output = outputs[update.UserId];
            Assert.Equal("dllm-v1", output.ModelVersion);
            Assert.Equal(update.SequenceVersion, output.SequenceVersion);
            Assert.Equal(update.Window.Select(e => e.ItemId), output.Observed);
            var fill = Assert.Single(output.Filled);
            Assert.Equal(update.Gaps[0].Position, fill.Position);
            Assert.Equal(DllmWorld.Dim, fill.Vector.Count);
            Assert.Equal(3, fill.Nearest.Count);
            Assert.True(fill.Nearest.Zip(fill.Nearest.Skip(1)).All(p => p.First.Score >= p.Second.Score));
            if (fill.Nearest[0].ItemId == hidden) hits++;
        }
        // The hidden item is the ring step between the gap's neighbours: the fill should point at it far more
        // often than chance (1 in 16).
        Assert.True(hits > Users / 4, $"the nearest item is the hidden one for {hits} of {Users} gaps");
        Assert.All(walks, w => Assert.Empty(outputs[w.Update.UserId].UnknownPositions));

        var partlyKnown = outputs["user-ghost"];
        Assert.Equal([3], partlyKnown.UnknownPositions);
        Assert.Equal(unknown.Gaps.Select(g => g.Position), partlyKnown.Filled.Select(f => f.Position));
        Assert.All(partlyKnown.Filled, f => Assert.Equal(3, f.Nearest.Count));
        var noneKnown = outputs["user-all-ghosts"];
        Assert.Equal(Enumerable.Range(0, allUnknown.Window.Count), noneKnown.UnknownPositions);
        Assert.Empty(noneKnown.Filled); // the model would see nothing but [MASK]s
        Assert.Equal(Users + 2, filler.Published);
        Assert.Equal(Users + 1, filler.Fills);

        var letters = world.Platform.ReadAll(Topics.DeadLetters, 3, TimeSpan.FromSeconds(30))
            .Select(r => new AvroSerde<DeadLetter>().Deserialize(r.Message.Value)).Where(l => l.Processor == "dllm").ToList();
        Assert.Equal(3, letters.Count);
        Assert.Contains(letters, l => l.Message.Contains("oversized", StringComparison.Ordinal));
        Assert.Contains(letters, l => l.Message.Contains("window is empty", StringComparison.Ordinal));
        Assert.Contains(letters, l => l.ErrorClass != ErrorClasses.Validation);
    }

    [Fact]
    public async Task A_replay_after_a_crash_republishes_identical_records_and_new_records_use_the_hot_loaded_version()
    {
        await using var world = await DllmWorld.StartAsync(postgres);
        var random = new Random(12);
        world.TrainerOptions.Steps = 40; // only identity matters here, not accuracy
        world.Publish(Enumerable.Range(0, Users).Select(u => DllmWorld.Walk($"user-{u:D3}", random).Update));
        var collector = world.NewCollector();
        world.Platform.Run(collector, "collector");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(collector.Consumed == Users), TimeSpan.FromSeconds(60), "windows kept");
        var trainer = world.NewTrainer();
        Assert.Equal(1, (await trainer.TrainIfDueAsync(force: false, CancellationToken.None))?.Version);

        var first = world.NewFiller();
        await first.WaitForModelAsync(CancellationToken.None);
        var stopFirst = world.Platform.Run(first, "first");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(first.Consumed == Users), TimeSpan.FromSeconds(60), "first pass");
        await world.Platform.StopAsync(stopFirst); // down: its consumer has left the group

        // A newer version appears while the role is down, and the offsets are lost as in a crash before they committed.
        Assert.Equal(2, (await trainer.TrainIfDueAsync(force: true, CancellationToken.None))?.Version);
        Assert.Equal(Users, await world.Platform.ScalarAsync("select count(*) from dllm_training_windows"));
        await using (var rewind = world.Platform.Db.CreateCommand("update consumer_offsets set next_offset = 0 where consumer_group like '%.dllm'"))
            Assert.True(await rewind.ExecuteNonQueryAsync() > 0);

        var second = world.NewFiller();
        world.Platform.Run(second, "second");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(second.Consumed == Users), TimeSpan.FromSeconds(60), "replay");
        var later = Enumerable.Range(0, 20).Select(u => DllmWorld.Walk($"later-{u:D2}", random).Update).ToList();
        world.Publish(later);
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(second.Consumed == Users + later.Count), TimeSpan.FromSeconds(60), "new records");

        var records = world.Platform.ReadAll(Topics.AugmentedSequences, 2 * Users + later.Count, TimeSpan.FromSeconds(30));
        Assert.Equal(2 * Users + later.Count, records.Count);
        var serde = new AvroSerde<AugmentedSequence>();
        foreach (var user in records.GroupBy(r => serde.Deserialize(r.Message.Value).UserId))
        {
            var values = user.Select(r => Convert.ToHexString(r.Message.Value!)).Distinct().ToList();
            Assert.True(values.Count == 1, $"{user.Key}: {values.Count} different outputs for one input: " +
                string.Join(" | ", user.Select(r => Describe(serde.Deserialize(r.Message.Value)))));
            var output = serde.Deserialize(user.First().Message.Value);
            // Replayed records keep the version their first outputs used; records after them get the hot-loaded one.
            Assert.Equal(user.Key.StartsWith("later-", StringComparison.Ordinal) ? "dllm-v2" : "dllm-v1", output.ModelVersion);
            Assert.Equal(user.Key.StartsWith("later-", StringComparison.Ordinal) ? 1 : 2, user.Count());
        }
        Assert.Equal(2, second.ModelVersion);
    }

    /// <summary>What tells two outputs apart, for a failure message.</summary>
    private static string Describe(AugmentedSequence output) =>
        $"{output.ModelVersion} unknown [{string.Join(",", output.UnknownPositions)}] " + string.Join("; ", output.Filled.Select(f =>
            $"@{f.Position} {Convert.ToHexString(f.Vector.SelectMany(BitConverter.GetBytes).ToArray())[..24]} " +
            string.Join(",", f.Nearest.Select(n => $"{n.ItemId}:{n.Score:R}"))));
}
