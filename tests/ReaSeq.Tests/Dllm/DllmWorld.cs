using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Models.Dllm;
using ReaSeq.Models.Training;
using ReaSeq.Processors.Dllm;
using ReaSeq.Processors.VectorStores;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Dllm;

/// <summary>
/// A synthetic world for the dllm role: items are unit vectors on a ring, every user walks the ring forwards, and a
/// detected gap hides exactly one skipped item (the walk jumps two steps there). The real broker, PostgreSQL and an
/// in-memory embedded vector index holding the ring items; a tiny LLaDA so training takes seconds.
/// </summary>
public sealed class DllmWorld : IAsyncDisposable
{
    public const int RingSize = 16;
    public const int Dim = 32;
    public const int WalkLength = 12;

    private DllmWorld(TestPlatform platform, EmbeddedVectorIndex index)
    {
        Platform = platform;
        Index = index;
        Store = new DllmStore(platform.Db, "test");
        Vectors = new ItemVectors(index, platform.Db, ownsStore: false);
    }

    public TestPlatform Platform { get; }
    public EmbeddedVectorIndex Index { get; }
    public DllmStore Store { get; }
    public ItemVectors Vectors { get; }
    public DllmMetrics Metrics { get; } = new();

    public DllmOptions Options { get; } = new() { MaxWindow = 20, Nearest = 3, MicroBatch = 16, ModelCheckMs = 100, UnknownItemWaitMs = 200 };

    public DllmTrainerOptions TrainerOptions { get; } = new() { MinTrainingWindows = 50, Steps = 300, BatchSize = 64, HeldOutPercent = 20 };

    public LladaTinyOptions ModelOptions { get; } = new()
    {
        Layers = 1,
        ModelDim = 16,
        Heads = 2,
        MaxLength = 32,
        ItemVectorDim = Dim,
        Dropout = 0,
        LearningRate = 3e-3,
        WarmupSteps = 0,
        TotalSteps = 200,
    };

    public static float[][] Ring { get; } = LladaTinyFactory.RingItems(RingSize, Dim, ringSeed: 4_242);

    public static string Item(int k) => $"ring-{((k % RingSize) + RingSize) % RingSize}";

    public static async Task<DllmWorld> StartAsync(PostgresFixture postgres)
    {
        // One libtorch thread, as in the torch tests: the tiny model trains many times faster on a shared machine.
        TorchDevice.SetCpuThreads(1);
        var platform = await TestPlatform.StartAsync(postgres, partitions: 3);
        var index = new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions { Dimension = Dim });
        await index.UpsertAsync(Enumerable.Range(0, RingSize).Select(k => new VectorPoint(Item(k), Ring[k])).ToList());
        return new DllmWorld(platform, index);
    }

    /// <summary>
    /// User <paramref name="user"/>'s update: a ring walk from a random start that skips one item before window
    /// position <c>Gap</c> (the gap), with two labeled positions elsewhere. Returns the update and the skipped item.
    /// </summary>
    public static (SequenceUpdate Update, string Hidden) Walk(string user, Random random)
    {
        int start = random.Next(RingSize), gap = random.Next(2, WalkLength - 1);
        var update = new SequenceUpdate { UserId = user, SequenceVersion = WalkLength, Variant = "TemporalOrCategory", TsMs = 1_700_000_000_000 };
        for (int i = 0; i < WalkLength; i++)
        {
            int step = start + i + (i >= gap ? 1 : 0);
            update.Window.Add(new SequenceEntry { ItemId = Item(step), TsMs = 1_700_000_000_000 + i * 60_000L, Category = "ring" });
        }
        update.Gaps.Add(new SequenceGap { Position = gap, Reasons = [GapReason.TD], DeltaMs = 3_600_000, ThresholdMs = 600_000 });
        foreach (var labeled in Enumerable.Range(1, WalkLength - 1).Where(p => p != gap).OrderBy(_ => random.Next()).Take(2).Order())
            update.LabeledPositions.Add(new LabeledPosition { Position = labeled, Delta = 2.5 });
        return (update, Item(start + gap));
    }

    public void Publish(IEnumerable<SequenceUpdate> updates)
    {
        foreach (var update in updates) Platform.Producer.Produce(Topics.SequenceGaps, update.UserId, update);
        Platform.Producer.Flush();
    }

    public DllmCollector NewCollector() =>
        new(new AvroSerde<SequenceUpdate>(), Store, Options, ModelOptions, Platform.KafkaOptions, Metrics);

    public DllmTrainer NewTrainer() =>
        new(Store, Vectors, ModelOptions, TrainerOptions, Options, Metrics, NullLogger<DllmTrainer>.Instance);

    public DllmFiller NewFiller() =>
        new(new AvroSerde<SequenceUpdate>(), new AvroSerde<AugmentedSequence>(), Platform.Kafka, Platform.DeadLetters, Store, Vectors,
            ModelOptions, Options, Platform.KafkaOptions, Metrics, NullLogger<DllmFiller>.Instance);

    public async ValueTask DisposeAsync()
    {
        await Platform.DisposeAsync();
        await Index.DisposeAsync();
        Metrics.Dispose();
    }
}
