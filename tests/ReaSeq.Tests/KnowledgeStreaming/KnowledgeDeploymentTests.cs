using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Knowledge;
using ReaSeq.Processors.Knowledge.Streaming;
using ReaSeq.Processors.VectorStores;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Models;

namespace ReaSeq.Tests.KnowledgeStreaming;

/// <summary>
/// Issue 8 D13/D14 and issue 13: the knowledge role's models and vectors belong to the deployment (its database), one
/// trainer leads per deployment and the others follow, the vector store is repaired by content, and the IUI switch
/// makes the adapted vectors the stored and published ones, retrained by the leader from users' clicks.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class KnowledgeDeploymentTests(PostgresFixture postgres) : IDisposable
{
    private const int Dim = 16;
    private readonly string _folder = Directory.CreateTempSubdirectory("reaseq-kdeploy-").FullName;

    private static SemanticIdTrainingOptions IdOptions() => new()
    {
        MinItemsForTraining = 32,
        RetrainEveryItems = 10_000,
        Levels = 2,
        CodebookSize = 8,
        LatentDim = 8,
        Epochs = 3,
        BatchSize = 32,
        KMeansMinPointsPerCode = 1,
        Device = "cpu",
    };

    private static IuiRoleOptions IuiOptions(bool enabled) => new()
    {
        Enabled = enabled,
        MinNewClicks = 10,
        Epochs = 2,
        BatchSize = 16,
        PairsPerEpoch = 0,
        LearningRate = 0.05,
        Device = "cpu",
    };

    /// <summary>A knowledge role's model side over one database: holders, trainer, vector index.</summary>
    private sealed class Node : IAsyncDisposable
    {
        public readonly KnowledgeMetrics Metrics = new();
        public readonly EmbeddedVectorIndex Vectors;
        public readonly PostgresKnowledgeStore Store;
        public readonly SemanticIdModelHolder Holder;
        public readonly IuiAdapterHolder Adapter;
        public readonly KnowledgeProcessorStats Stats;
        public readonly SemanticIdTrainer Trainer;

        public Node(NpgsqlDataSource db, IKafkaClientSupplier kafka, string indexPath, SemanticIdTrainingOptions ids, IuiRoleOptions iui)
        {
            Vectors = new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions { Dimension = Dim, Path = indexPath });
            Store = new PostgresKnowledgeStore(db);
            var models = new PostgresModelStore(db);
            Holder = new SemanticIdModelHolder(models, new PostgresSemanticIdDedup(db), ids);
            Adapter = new IuiAdapterHolder(models, iui);
            Stats = new KnowledgeProcessorStats(Metrics);
            Trainer = new SemanticIdTrainer(Store, Holder, Adapter, Vectors, new KnowledgeOutputGate(), Stats, Metrics, kafka,
                new AvroSerde<ItemKnowledge>(), db, ids, iui, new KnowledgeProcessorOptions(), NullLogger<SemanticIdTrainer>.Instance);
        }

        public async ValueTask DisposeAsync()
        {
            Trainer.Dispose();
            Holder.Dispose();
            Adapter.Dispose();
            Stats.Dispose();
            await Vectors.DisposeAsync();
            Metrics.Dispose();
        }
    }

    private static ItemKnowledge Row(string id, float[] vector) => new()
    {
        ItemId = id,
        ContentHash = "h-" + id,
        Category = "C" + (id.GetHashCode(StringComparison.Ordinal) & 3),
        Vector = [.. vector],
        TaxonomyVersion = "t",
        PromptVersion = "p",
        Backend = "test",
        Encoder = "test",
        TsMs = 1_700_000_000_000,
    };

    /// <summary>64 items around 8 centres: item i belongs to group i % 8.</summary>
    private static List<ItemKnowledge> Items(int count = 64)
    {
        var (vectors, _) = ClusteredVectors.Generate(count, Dim, clusters: 8, noise: 0.05, seed: 11);
        return vectors.Select((v, i) => Row($"item-{i:D3}", v)).ToList();
    }

    private static async Task InsertClicksAsync(NpgsqlDataSource db, IEnumerable<(string User, string Item, long Ts)> clicks)
    {
        var seq = new Dictionary<string, long>();
        foreach (var (user, item, ts) in clicks)
        {
            seq[user] = seq.GetValueOrDefault(user, await NextSeqAsync(db, user));
            await using var cmd = db.CreateCommand(
                "insert into user_clicks (user_id, seq, event_id, item_id, ts_ms, action, kafka_partition) values ($1, $2, $3, $4, $5, 0, 0)");
            cmd.Parameters.AddWithValue(user);
            cmd.Parameters.AddWithValue(seq[user]);
            cmd.Parameters.AddWithValue($"{user}-{seq[user]}");
            cmd.Parameters.AddWithValue(item);
            cmd.Parameters.AddWithValue(ts);
            await cmd.ExecuteNonQueryAsync();
            seq[user]++;
        }
    }

    private static async Task<long> NextSeqAsync(NpgsqlDataSource db, string user)
    {
        await using var cmd = db.CreateCommand("select coalesce(max(seq) + 1, 0) from user_clicks where user_id = $1");
        cmd.Parameters.AddWithValue(user);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Models_and_the_vector_folder_belong_to_the_deployment_so_a_fresh_database_starts_without_them()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 1);
        await using var dbB = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        // Both nodes run with the same local settings, as two `make run`s on one machine do.
        await using var a = new Node(platform.Db, platform.Kafka, Path.Combine(_folder, "a.idx"), IdOptions(), IuiOptions(false));
        await a.Store.CommitAsync("g", Items(), [], [], CancellationToken.None);
        Assert.True(await a.Trainer.RunOnceAsync(CancellationToken.None));
        Assert.NotEqual("", a.Holder.Version);

        await using var b = new Node(dbB, platform.Kafka, Path.Combine(_folder, "b.idx"), IdOptions(), IuiOptions(false));
        Assert.False(await b.Holder.SyncAsync(CancellationToken.None));
        Assert.Equal("", b.Holder.Version);
        var (ids, version) = b.Holder.Assign([new float[Dim]]);
        Assert.Equal("", version);
        Assert.Empty(ids[0]);

        // The embedded index of each deployment lives in a folder named by that deployment's identity.
        var options = new KnowledgeVectorStoreOptions { Path = Path.Combine(_folder, "vectors", "items.idx") };
        var idA = await new PostgresModelStore(platform.Db).DeploymentIdAsync(CancellationToken.None);
        var idB = await new PostgresModelStore(dbB).DeploymentIdAsync(CancellationToken.None);
        Assert.NotEqual(idA, idB);
        Assert.Equal(Path.Combine(_folder, "vectors", idA, "items.idx"), options.ForDeployment(idA).Path);
        Assert.NotEqual(options.ForDeployment(idA).Path, options.ForDeployment(idB).Path);
    }

    [Fact]
    public async Task One_trainer_leads_per_deployment_the_others_follow_its_versions_and_take_over_when_it_goes()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 1);
        var a = new Node(platform.Db, platform.Kafka, Path.Combine(_folder, "a.idx"), IdOptions(), IuiOptions(false));
        await using var b = new Node(platform.Db, platform.Kafka, Path.Combine(_folder, "b.idx"), IdOptions(), IuiOptions(false));
        await a.Store.CommitAsync("g", Items(), [], [], CancellationToken.None);

        Assert.True(await a.Trainer.RunOnceAsync(CancellationToken.None));
        Assert.True(a.Trainer.IsLeader);
        Assert.False(await b.Trainer.RunOnceAsync(CancellationToken.None));
        Assert.False(b.Trainer.IsLeader);
        Assert.Equal(0, b.Trainer.Trainings);
        Assert.Equal(a.Holder.Version, b.Holder.Version); // b follows the leader's model
        Assert.Equal(1, await platform.ScalarAsync("select count(*) from model_checkpoints where kind = 'rqvae'"));
        Assert.Equal(64, a.Stats.Republished);
        Assert.Equal(0, b.Stats.Republished);

        // Both assign the same ids to the same vectors.
        var probe = Items().Take(5).Select(r => r.Vector.ToArray()).ToList();
        Assert.Equal(a.Holder.Assign(probe).Ids, b.Holder.Assign(probe).Ids);

        await a.DisposeAsync(); // the leader goes; its session (and lock) with it
        Assert.False(await b.Trainer.RunOnceAsync(CancellationToken.None)); // nothing due
        Assert.True(b.Trainer.IsLeader);
    }

    [Fact]
    public async Task The_vector_store_repair_compares_content_and_never_resurrects_deleted_items()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var store = new PostgresKnowledgeStore(db);
        var items = Items(4);
        var (a, b, c, d) = (items[0], items[1], items[2], items[3]);
        await store.CommitAsync("g", [a, b, c, d], [], [], CancellationToken.None);
        await store.CommitAsync("g", [], [d.ItemId], [], CancellationToken.None);

        await using var vectors = new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions { Dimension = Dim, Path = Path.Combine(_folder, "r.idx") });
        // As after a crash before the index was written: a holds an older vector, c is missing, d (deleted) is still there.
        var stale = Row(a.ItemId, items[3].Vector.ToArray());
        await vectors.UpsertAsync([KnowledgeProcessor.ToPoint(stale), KnowledgeProcessor.ToPoint(b), KnowledgeProcessor.ToPoint(d)]);
        Assert.Equal(await store.CountAsync(CancellationToken.None), await vectors.CountAsync()); // equal counts hide all three

        var (rewritten, removed) = await new VectorStoreRepair(store, vectors, NullLogger.Instance).RunAsync(CancellationToken.None);
        Assert.Equal(2, rewritten);
        Assert.Equal(1, removed);
        Assert.Null(await vectors.GetAsync(d.ItemId));
        Assert.NotNull(await vectors.GetAsync(c.ItemId));
        var repaired = await vectors.GetAsync(a.ItemId);
        Assert.Equal(KnowledgeProcessor.VectorHash(a.Vector), repaired!.Payload[KnowledgeProcessor.VectorHashKey]);
        Assert.Equal((0, 0), await new VectorStoreRepair(store, vectors, NullLogger.Instance).RunAsync(CancellationToken.None));

        // An item deleted and then re-created is no tombstone any more.
        await store.CommitAsync("g", [d], [], [], CancellationToken.None);
        Assert.Equal((1, 0), await new VectorStoreRepair(store, vectors, NullLogger.Instance).RunAsync(CancellationToken.None));
    }

    [Fact]
    public async Task With_the_IUI_switch_on_stored_and_published_vectors_are_adapted_the_base_is_kept_and_a_retrain_makes_a_new_version()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 1);
        await using var node = new Node(platform.Db, platform.Kafka, Path.Combine(_folder, "i.idx"), IdOptions(), IuiOptions(true));
        var items = Items();
        await node.Store.CommitAsync("g", items, [], [], CancellationToken.None);
        // Users buy items of two neighbouring groups together (g and g + 1): collaborative signal the base vectors lack.
        var clicks = new List<(string, string, long)>();
        for (int u = 0; u < 40; u++)
        {
            int g = u % 8;
            for (int k = 0; k < 6; k++) clicks.Add(($"u{u}", items[((k % 2 == 0 ? g : (g + 1) % 8) + 8 * ((u + k) % 8)) % 64].ItemId, 1_000L * (u * 10 + k)));
        }
        await InsertClicksAsync(platform.Db, clicks);

        Assert.True(await node.Trainer.RunOnceAsync(CancellationToken.None));
        string v1 = node.Adapter.Version;
        Assert.StartsWith("iui-", v1);
        Assert.Equal(1, await platform.ScalarAsync($"select count(*) from current_models where kind = 'iui' and version = '{v1}'"));
        // Every stored vector is the adapted one, the base kept beside it; the semantic ids were trained on adapted vectors.
        Assert.Equal(64, await platform.ScalarAsync($"select count(*) from item_knowledge where adapter_version = '{v1}' and vector <> base_vector"));
        var baseStored = await platform.ScalarAsync("select count(*) from item_knowledge k where k.base_vector is not null");
        Assert.Equal(64, baseStored);
        var (_, bases) = await node.Store.LoadBaseVectorsAsync(CancellationToken.None);
        Assert.Equal(items.Select(i => i.Vector.ToArray()), bases);
        Assert.Equal(v1, node.Holder.Pointer!.AdapterVersion);
        var row = await node.Store.GetAsync(items[5].ItemId, CancellationToken.None);
        var point = await node.Vectors.GetAsync(items[5].ItemId);
        Assert.Equal(KnowledgeProcessor.VectorHash(row!.Vector), point!.Payload[KnowledgeProcessor.VectorHashKey]);
        var published = platform.ReadAll(Topics.ItemKnowledge, 64, TimeSpan.FromSeconds(30))
            .Select(r => new AvroSerde<ItemKnowledge>().Deserialize(r.Message.Value)).ToList();
        Assert.Contains(published, p => p.ItemId == row.ItemId && p.Vector.SequenceEqual(row.Vector) && p.SemanticIdVersion == node.Holder.Version);

        // New clicks: the retrain produces a new version; the next round re-derives every item from its base vector.
        await InsertClicksAsync(platform.Db, Enumerable.Range(0, 30).SelectMany(u =>
            Enumerable.Range(0, 4).Select(k => ($"n{u}", items[(u * 3 + k * 17) % 64].ItemId, 2_000_000L + u * 100 + k))));
        var retrained = await node.Trainer.TrainAdapterAsync(CancellationToken.None);
        Assert.NotNull(retrained);
        Assert.NotEqual(v1, retrained.Version);
        Assert.Equal(2, await platform.ScalarAsync("select count(*) from model_checkpoints where kind = 'iui'"));
        Assert.True(await node.Trainer.RunOnceAsync(CancellationToken.None)); // the RQ-VAE follows the new vectors
        Assert.Equal(64, await platform.ScalarAsync($"select count(*) from item_knowledge where adapter_version = '{retrained.Version}'"));
        Assert.Equal(retrained.Version, node.Holder.Pointer!.AdapterVersion);
        Assert.Equal(items.Select(i => i.Vector.ToArray()), (await node.Store.LoadBaseVectorsAsync(CancellationToken.None)).Vectors);
    }

    [Fact]
    public async Task With_the_switch_off_adapted_vectors_of_an_earlier_run_revert_to_the_base()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 1);
        var items = Items();
        await using (var on = new Node(platform.Db, platform.Kafka, Path.Combine(_folder, "on.idx"), IdOptions(), IuiOptions(true)))
        {
            await on.Store.CommitAsync("g", items, [], [], CancellationToken.None);
            await InsertClicksAsync(platform.Db, Enumerable.Range(0, 64).Select(i => ($"u{i / 4}", items[(i * 7) % 64].ItemId, 1_000L * i)));
            await on.Trainer.RunOnceAsync(CancellationToken.None);
            Assert.Equal(64, await platform.ScalarAsync("select count(*) from item_knowledge where adapter_version <> ''"));
        }
        await using var off = new Node(platform.Db, platform.Kafka, Path.Combine(_folder, "off.idx"), IdOptions(), IuiOptions(false));
        await off.Trainer.RunOnceAsync(CancellationToken.None);
        Assert.Equal(64, await platform.ScalarAsync("select count(*) from item_knowledge where adapter_version = '' and vector = base_vector"));
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
