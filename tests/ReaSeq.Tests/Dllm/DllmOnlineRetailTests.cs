using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Models.Dllm;
using ReaSeq.Models.Training;
using ReaSeq.Processors.Dllm;
using ReaSeq.Processors.Knowledge.Encoders;
using ReaSeq.Processors.VectorStores;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Replay;

namespace ReaSeq.Tests.Dllm;

/// <summary>
/// Issue 9 §7, the dllm role end to end on the Online Retail sample: the replayed clicks go through the item ingestor
/// and the sequence role into real gap records, and the dllm role keeps their labeled windows, trains a version on
/// them and fills every gap. Item vectors are the real MiniLM encoder's vectors of the items' titles (the knowledge
/// role's own vectors are tested with that role; what is under test here is the dllm role on a real gap stream).
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class DllmOnlineRetailTests(PostgresFixture postgres)
{
    [OnlineRetailFact]
    public async Task The_online_retail_sample_s_gaps_are_all_filled_with_the_trained_version_and_nothing_is_dead_lettered()
    {
        TorchDevice.SetCpuThreads(1);
        await using var platform = await TestPlatform.StartAsync(postgres);
        var (_, sequence) = await ReaSeq.Tests.SequenceStreaming.SequenceRoleTests.RunOnlineRetailSampleAsync(platform);
        var serde = new AvroSerde<SequenceUpdate>();
        var updates = platform.ReadAll(Topics.SequenceGaps, (int)sequence.Published, TimeSpan.FromSeconds(30))
            .Select(r => serde.Deserialize(r.Message.Value)).ToList();
        Assert.Contains(updates, u => u.Gaps.Count > 0);
        Assert.Contains(updates, u => u.LabeledPositions.Count > 0);

        // The items' vectors, as the vector store would hold them.
        var items = platform.ReadToEnd(Topics.ItemUpdates).Select(r => new AvroSerde<ItemUpdate>().Deserialize(r.Message.Value))
            .GroupBy(i => i.ItemId).Select(g => g.Last()).ToList();
        await using var index = new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions { Dimension = 384 });
        using (var encoder = new MiniLmEncoder())
        {
            var vectors = encoder.Encode([.. items.Select(i => i.Title)]);
            await index.UpsertAsync([.. items.Select((item, k) => new VectorPoint(item.ItemId, vectors[k]))]);
        }

        var store = new DllmStore(platform.Db, "online-retail");
        var itemVectors = new ItemVectors(index, platform.Db, ownsStore: false);
        using var metrics = new DllmMetrics();
        var options = new DllmOptions { Nearest = 5, MicroBatch = 32, ModelCheckMs = 100, UnknownItemWaitMs = 0 };
        var model = new LladaTinyOptions { Layers = 1, ModelDim = 32, Heads = 2, MaxLength = 112, ItemVectorDim = 384, WarmupSteps = 0, TotalSteps = 40 };
        var collector = new DllmCollector(serde, store, options, model, platform.KafkaOptions, metrics);
        platform.Run(collector, "collector");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(collector.Consumed == updates.Count), TimeSpan.FromSeconds(60), "windows kept");

        var trainer = new DllmTrainer(store, itemVectors, model,
            new DllmTrainerOptions { MinTrainingWindows = 8, Steps = 40, BatchSize = 32, HeldOutPercent = 50 }, options, metrics, NullLogger<DllmTrainer>.Instance);
        var version = await trainer.TrainIfDueAsync(force: false, CancellationToken.None);
        Assert.NotNull(version);
        // The sample's users are few: half are held out so that the §4.2.1 metrics have sequences to score.
        Assert.True(version.Metric("heldout_sequences") >= 2, $"held-out sequences: {version.Metric("heldout_sequences")}, training windows {version.TrainingWindows}");
        Assert.InRange(version.Metric("mask_ib_acc"), 0, 1);

        var filler = new DllmFiller(serde, new AvroSerde<AugmentedSequence>(), platform.Kafka, platform.DeadLetters, store, itemVectors,
            model, options, platform.KafkaOptions, metrics, NullLogger<DllmFiller>.Instance);
        await filler.WaitForModelAsync(CancellationToken.None);
        platform.Run(filler, "filler");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(filler.Consumed == updates.Count), TimeSpan.FromSeconds(120), "updates filled");

        Assert.Equal(0, filler.DeadLettered);
        Assert.Equal(updates.Count, filler.Published);
        Assert.Equal(updates.Sum(u => u.Gaps.Count), filler.Fills);
        var outputs = platform.ReadAll(Topics.AugmentedSequences, updates.Count, TimeSpan.FromSeconds(30))
            .Select(r => new AvroSerde<AugmentedSequence>().Deserialize(r.Message.Value)).ToDictionary(o => (o.UserId, o.SequenceVersion));
        var known = items.Select(i => i.ItemId).ToHashSet(StringComparer.Ordinal);
        foreach (var update in updates)
        {
            var output = outputs[(update.UserId, update.SequenceVersion)];
            Assert.Equal(DllmModelVersion.Label(version.Version), output.ModelVersion);
            Assert.Equal(update.Window.Select(e => e.ItemId), output.Observed);
            Assert.Empty(output.UnknownPositions);
            Assert.Equal(update.Gaps.Select(g => g.Position).Order(), output.Filled.Select(f => f.Position));
            Assert.All(output.Filled, f =>
            {
                Assert.Equal(384, f.Vector.Count);
                Assert.Equal(options.Nearest, f.Nearest.Count);
                Assert.All(f.Nearest, n => Assert.Contains(n.ItemId, known));
            });
        }
    }
}
