using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Models.Training;
using ReaSeq.Processors.Knowledge;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Encoders;
using ReaSeq.Processors.Knowledge.Guards;
using ReaSeq.Processors.Knowledge.Streaming;
using ReaSeq.Processors.Knowledge.Taxonomy;
using ReaSeq.Processors.VectorStores;
using ReaSeq.Tests.Infrastructure;
using static ReaSeq.Tests.KnowledgeStreaming.KnowledgeStreamTestData;

namespace ReaSeq.Tests.KnowledgeStreaming;

/// <summary>
/// The knowledge role end to end on real parts: embedded Kafka, PostgreSQL, the MiniLM encoder, the extractive
/// agent backend, the embedded vector index and TorchSharp for the semantic id model.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class KnowledgeProcessorTests(PostgresFixture postgres) : IDisposable
{
    private static readonly Lazy<MiniLmEncoder> Encoder = new(() => new MiniLmEncoder());
    private readonly string _folder = Directory.CreateTempSubdirectory("reaseq-knowledge-").FullName;

    private sealed class Role(TestPlatform platform, string folder) : IAsyncDisposable
    {
        public readonly KnowledgeMetrics Metrics = new();
        public readonly EmbeddedVectorIndex Vectors = new(new EmbeddedVectorIndexOptions { Dimension = 384, Path = Path.Combine(folder, "items.idx") });
        public readonly SemanticIdTrainingOptions IdOptions = new()
        {
            MinItemsForTraining = 20,
            KMeansMinPointsPerCode = 1,
            RetrainEveryItems = 1_000,
            Levels = 2,
            CodebookSize = 16,
            LatentDim = 16,
            Epochs = 8,
            BatchSize = 32,
            Device = "cpu",
        };
        public SemanticIdModelHolder Holder = null!;
        public IuiAdapterHolder Adapter = null!;
        public KnowledgeProcessorStats Stats = null!;
        public KnowledgeProcessor Processor = null!;
        public SemanticIdTrainer Trainer = null!;
        public PostgresKnowledgeStore Store = null!;
        public KnowledgeReasoner Reasoner = null!;

        public Role Build(Func<IKnowledgeAgentBackend, IKnowledgeAgentBackend>? wrapBackend = null, KnowledgeReasonerOptions? reasonerOptions = null)
        {
            var backend = KnowledgeAgentBackendFactory.Create(new KnowledgeAgentOptions(), Encoder.Value, Metrics);
            if (wrapBackend is not null) backend = wrapBackend(backend);
            var corpus = new PostgresCategoryCorpus(platform.Db);
            var reasoner = Reasoner = new KnowledgeReasoner(backend, Encoder.Value, new PostgresTaxonomyCache(platform.Db), corpus, reasonerOptions, Metrics);
            Store = new PostgresKnowledgeStore(platform.Db);
            var models = new PostgresModelStore(platform.Db);
            Holder = new SemanticIdModelHolder(models, new PostgresSemanticIdDedup(platform.Db), IdOptions);
            Adapter = new IuiAdapterHolder(models, new IuiRoleOptions());
            Stats = new KnowledgeProcessorStats(Metrics);
            var gate = new KnowledgeOutputGate();
            var options = new KnowledgeProcessorOptions();
            Processor = new KnowledgeProcessor(new AvroSerde<ItemUpdate>(), new AvroSerde<ItemKnowledge>(), platform.Validator, platform.Kafka,
                platform.DeadLetters, reasoner, corpus, Store, Vectors, Holder, Adapter, gate, Stats, options, platform.KafkaOptions,
                NullLogger<KnowledgeProcessor>.Instance);
            Trainer = new SemanticIdTrainer(Store, Holder, Adapter, Vectors, gate, Stats, Metrics, platform.Kafka, new AvroSerde<ItemKnowledge>(),
                platform.Db, IdOptions, new IuiRoleOptions(), options, NullLogger<SemanticIdTrainer>.Instance);
            return this;
        }

        public async ValueTask DisposeAsync()
        {
            Processor.Dispose();
            Trainer.Dispose();
            Holder.Dispose();
            Adapter.Dispose();
            Stats.Dispose();
            await Vectors.DisposeAsync();
            Metrics.Dispose();
        }
    }

    private static readonly AvroSerde<ItemKnowledge> KnowledgeSerde = new();

    private static List<(ItemKnowledge Record, byte[] Bytes)> Decode(IEnumerable<ConsumeResult<byte[]?, byte[]?>> results) =>
        results.Select(r => (KnowledgeSerde.Deserialize(r.Message.Value), r.Message.Value!)).ToList();

    private static async Task WaitConsumedAsync(Role role, long expected) =>
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(role.Stats.Consumed >= expected), TimeSpan.FromSeconds(120),
            $"knowledge processor consumed {expected} item updates (now {role.Stats.Consumed})");

    private static void Publish(TestPlatform platform, IEnumerable<ItemUpdate> updates)
    {
        foreach (var update in updates) platform.Producer.Produce(Topics.ItemUpdates, update.ItemId, update);
        platform.Producer.Flush();
    }

    [Fact]
    public async Task Item_updates_become_grounded_knowledge_once_per_item_version_with_cached_taxonomies_and_semantic_ids()
    {
        TorchDevice.SetCpuThreads(1);
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 3);
        await using var role = new Role(platform, _folder).Build();
        var catalog = Catalog();
        var valid = catalog.Where(u => u.ItemId != OversizedId).ToList();
        Publish(platform, catalog);
        platform.Run(role.Processor, "k1");
        await WaitConsumedAsync(role, catalog.Count);

        // One ItemKnowledge per valid item, keyed by item id, stamped with the update's time.
        var first = Decode(platform.ReadAll(Topics.ItemKnowledge, valid.Count, TimeSpan.FromSeconds(30)));
        Assert.Equal(valid.Count, first.Count);
        Assert.Equal(valid.Select(v => v.ItemId).Order(), first.Select(f => f.Record.ItemId).Order());
        Assert.All(first, f => Assert.Equal(BaseTs, f.Record.TsMs));
        Assert.Equal(valid.Count, await platform.ScalarAsync("select count(*) from item_knowledge"));
        Assert.Equal(valid.Count, await role.Vectors.CountAsync());
        Assert.Equal(valid.Count, role.Stats.Published);

        var byId = first.ToDictionary(f => f.Record.ItemId, f => f.Record);
        var updates = valid.ToDictionary(v => v.ItemId);
        foreach (var record in byId.Values)
        {
            var item = KnowledgeProcessor.ToKnowledgeItem(updates[record.ItemId]);
            Assert.Equal(role.Reasoner.KnowledgeHash(item), record.ContentHash);
            Assert.NotEmpty(record.Demand.Concat(record.Attribute));
            Assert.Equal(384, record.Vector.Count);
            Assert.Equal("", record.SemanticIdVersion); // no model trained yet
            // Hallucination guard: every evidence span is found in the item's own metadata.
            var sources = item.EvidenceSources().Select(EvidenceGuard.Normalise).ToList();
            foreach (var evidence in record.Demand.Concat(record.Attribute).SelectMany(d => d.Evidence))
            {
                Assert.True(sources.Any(s => s.Contains(EvidenceGuard.Normalise(evidence), StringComparison.Ordinal)),
                    $"evidence '{evidence}' of {record.ItemId} is not in its metadata");
            }

            var stored = await role.Vectors.GetAsync(record.ItemId);
            Assert.NotNull(stored);
            Assert.Equal(record.Category, stored.Payload["category"]);
            Assert.Equal(record.ContentHash, stored.Payload["content_hash"]);
        }

        // The uncategorised item was classified (into apparel, judged by its text); the others keep their own path.
        var classified = byId[UncategorisedId];
        Assert.True(classified.CategoryAssigned);
        Assert.StartsWith("Apparel", classified.Category);
        Assert.All(byId.Values.Where(r => r.ItemId != UncategorisedId), r => Assert.False(r.CategoryAssigned));

        // The injection title is data: its knowledge uses the category's taxonomy labels like any other item's.
        var injected = byId[InjectionId];
        var taxonomies = await LoadTaxonomiesAsync(platform);
        var tops = taxonomies[injected.Category];
        Assert.NotEmpty(injected.Demand);
        Assert.NotEmpty(injected.Attribute);
        Assert.All(injected.Demand, d => Assert.NotNull(tops.Demand.Find(d.Label)));
        Assert.All(injected.Attribute, d => Assert.NotNull(tops.Attribute.Find(d.Label)));
        Assert.DoesNotContain(injected.Demand.Concat(injected.Attribute), d => d.Label.Contains("hacked", StringComparison.OrdinalIgnoreCase));

        // The oversized update went to the dead-letter topic with its reason.
        var letters = platform.ReadAll(Topics.DeadLetters, 1, TimeSpan.FromSeconds(10))
            .Select(r => new AvroSerde<DeadLetter>().Deserialize(r.Message.Value)).Where(l => l.Processor == "knowledge").ToList();
        var letter = Assert.Single(letters);
        Assert.Equal(ErrorClasses.Validation, letter.ErrorClass);
        Assert.Equal(1, role.Stats.DeadLettered);

        // One taxonomy row per category at every depth, built once (a miss) and reused (hits) for every later item.
        var paths = byId.Values.Select(r => r.Category.Split(" > ")).SelectMany(p => Enumerable.Range(1, p.Length).Select(d => string.Join(" > ", p.Take(d))))
            .Distinct().ToList();
        Assert.Equal(paths.Count, taxonomies.Count);
        Assert.Equal(9, paths.Count);
        Assert.Equal(paths.Count, role.Stats.TaxonomyCacheMisses);
        Assert.True(role.Stats.TaxonomyCacheHits >= valid.Count - paths.Count, $"cache hits {role.Stats.TaxonomyCacheHits}");

        // Republishing the same updates publishes nothing new: every content hash matches the stored one.
        Publish(platform, valid);
        await WaitConsumedAsync(role, catalog.Count + valid.Count);
        Assert.Equal(valid.Count, role.Stats.Unchanged);
        Assert.Equal(valid.Count, platform.ReadAll(Topics.ItemKnowledge, valid.Count + 1, TimeSpan.FromSeconds(3)).Count);

        // A changed title produces exactly one new record, for that item.
        var changed = Update("tee-3", "Black merino wool regular fit t-shirt with pocket", updates["tee-3"].Description, ["Apparel", "Tops"],
            updates["tee-3"].Attributes.Select(a => (a.Key, a.Value)).ToArray());
        changed.TsMs = BaseTs + 1_000;
        Publish(platform, [changed]);
        await WaitConsumedAsync(role, catalog.Count + valid.Count + 1);
        var afterChange = Decode(platform.ReadAll(Topics.ItemKnowledge, valid.Count + 1, TimeSpan.FromSeconds(30)));
        Assert.Equal(valid.Count + 1, afterChange.Count);
        var newest = afterChange.Where(r => r.Record.ItemId == "tee-3").MaxBy(r => r.Record.TsMs).Record;
        Assert.Equal(role.Reasoner.KnowledgeHash(KnowledgeProcessor.ToKnowledgeItem(changed)), newest.ContentHash);
        Assert.NotEqual(byId["tee-3"].ContentHash, newest.ContentHash);

        // Re-processing an item version (its committed row lost, as after a crash before commit) re-publishes a byte-identical record.
        await platform.ScalarAsync("with d as (delete from item_knowledge where item_id = 'pan-2' returning 1) select count(*) from d");
        Publish(platform, [updates["pan-2"]]);
        await WaitConsumedAsync(role, catalog.Count + valid.Count + 2);
        var replayed = Decode(platform.ReadAll(Topics.ItemKnowledge, valid.Count + 2, TimeSpan.FromSeconds(30)))
            .Where(r => r.Record.ItemId == "pan-2").ToList();
        Assert.Equal(2, replayed.Count);
        Assert.Equal(replayed[0].Bytes, replayed[1].Bytes);
        Assert.Equal(paths.Count, await platform.ScalarAsync("select count(*) from taxonomies")); // still no rebuild

        // Semantic ids: past the (low) threshold a model is trained, saved, made current, and every item re-published with its id.
        Assert.True(await role.Trainer.RunOnceAsync(CancellationToken.None));
        var version = role.Holder.Version;
        Assert.StartsWith("rqvae-2x16-", version);
        // Stored in the deployment's database (issue 8 D13), with two RQ-VAE levels and the de-duplication level.
        Assert.Equal(1, await platform.ScalarAsync($"select count(*) from current_models where kind = 'rqvae' and version = '{version}'"));
        Assert.Equal(valid.Count, await platform.ScalarAsync($"select count(*) from item_knowledge where semantic_id_version = '{version}' and cardinality(semantic_id) = 3"));
        Assert.Equal(0, await platform.ScalarAsync(
            $"select count(*) from (select semantic_id from item_knowledge where semantic_id_version = '{version}' group by semantic_id having count(*) > 1) d"));
        Assert.Equal(valid.Count, role.Stats.Republished);
        var withIds = Decode(platform.ReadAll(Topics.ItemKnowledge, 2 * valid.Count + 2, TimeSpan.FromSeconds(30)))
            .Where(r => r.Record.SemanticIdVersion == version).ToList();
        Assert.Equal(valid.Count, withIds.Count);
        Assert.All(withIds, r => Assert.All(r.Record.SemanticId.Take(2), code => Assert.InRange(code, 0, 15)));
        Assert.NotNull(role.Trainer.LastReport);
        Assert.InRange(role.Trainer.LastReport.CollisionRate, 0, 1);

        // Nothing is due or outdated now; a new item gets its id from the current model straight away.
        Assert.False(await role.Trainer.RunOnceAsync(CancellationToken.None));
        Assert.Equal(valid.Count, role.Stats.Republished);
        var fresh = Update("knife-new", "Carbon steel paring knife 9 cm", "Small sharp paring knife.", ["Kitchen", "Cutlery"], ("blade material", "carbon steel"));
        Publish(platform, [fresh]);
        await WaitConsumedAsync(role, catalog.Count + valid.Count + 3);
        var freshRecord = Decode(platform.ReadAll(Topics.ItemKnowledge, 2 * valid.Count + 3, TimeSpan.FromSeconds(30)))
            .Single(r => r.Record.ItemId == "knife-new").Record;
        Assert.Equal(version, freshRecord.SemanticIdVersion);
        Assert.Equal(3, freshRecord.SemanticId.Count);
    }

    [Fact]
    public async Task A_new_prompt_version_re_reasons_items_whose_metadata_did_not_change()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 3);
        VersionedBackend? backend = null;
        await using var role = new Role(platform, _folder).Build(inner => backend = new VersionedBackend(inner));
        var items = Catalog().Where(u => u.ItemId.StartsWith("tee-", StringComparison.Ordinal)).Take(5).ToList();
        Publish(platform, items);
        platform.Run(role.Processor, "k1");
        await WaitConsumedAsync(role, items.Count);
        Assert.Equal(items.Count, role.Stats.Published);

        // Same metadata, same derivation: skipped.
        Publish(platform, items);
        await WaitConsumedAsync(role, 2 * items.Count);
        Assert.Equal(items.Count, role.Stats.Unchanged);

        // Same metadata, new prompts: the stored knowledge is stale and every item is reasoned again under the new version.
        backend!.PromptVersion = "v2-test";
        Publish(platform, items);
        await WaitConsumedAsync(role, 3 * items.Count);
        Assert.Equal(items.Count, role.Stats.Unchanged);
        Assert.Equal(2 * items.Count, role.Stats.Published);
        var republished = Decode(platform.ReadAll(Topics.ItemKnowledge, 2 * items.Count, TimeSpan.FromSeconds(30)))
            .Where(r => r.Record.PromptVersion == "v2-test").ToList();
        Assert.Equal(items.Count, republished.Count);
    }

    [Fact]
    public async Task When_a_category_has_grown_its_taxonomy_is_rebuilt_and_unchanged_items_are_re_reasoned_at_their_next_update()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 3);
        await using var role = new Role(platform, _folder).Build(
            reasonerOptions: new KnowledgeReasonerOptions { RebuildGrowthFactor = 2, RebuildMinNewItems = 1, RebuildCheckMs = 0 });
        var tees = Catalog().Where(u => u.ItemId.StartsWith("tee-", StringComparison.Ordinal)).Take(3).ToList();
        Publish(platform, tees);
        platform.Run(role.Processor, "k1");
        await WaitConsumedAsync(role, tees.Count);
        var before = await LoadTaxonomiesAsync(platform);
        Assert.Equal(1, before["Apparel"].Generation);

        // Apparel grows from 3 items to 13: its taxonomy is rebuilt as generation 2.
        var jeans = Catalog().Where(u => u.ItemId.StartsWith("jeans-", StringComparison.Ordinal)).ToList();
        Publish(platform, jeans);
        await WaitConsumedAsync(role, tees.Count + jeans.Count);
        await using (var cmd = platform.Db.CreateCommand("select count(*) from taxonomies where category = 'Apparel'"))
            Assert.Equal(2L, await cmd.ExecuteScalarAsync());
        var after = await LoadTaxonomiesAsync(platform, newest: true);
        Assert.Equal(2, after["Apparel"].Generation);

        // The tees' metadata did not change, but their taxonomy did ("Apparel > Tops" follows its rebuilt parent): their
        // next update re-reasons them under the new one.
        Publish(platform, tees);
        await WaitConsumedAsync(role, 2 * tees.Count + jeans.Count);
        Assert.Equal(tees.Count, role.Stats.Retaxonomised);
        after = await LoadTaxonomiesAsync(platform, newest: true);
        Assert.Equal((2, after["Apparel"].Version), (after["Apparel > Tops"].Generation, after["Apparel > Tops"].ParentVersion));
        var republished = Decode(platform.ReadAll(Topics.ItemKnowledge, 2 * tees.Count + jeans.Count, TimeSpan.FromSeconds(30)))
            .Where(r => r.Record.ItemId.StartsWith("tee-", StringComparison.Ordinal) && r.Record.TaxonomyVersion == after["Apparel > Tops"].Version).ToList();
        Assert.Equal(tees.Count, republished.Count);

        // And once re-reasoned, a further identical update is unchanged again.
        Publish(platform, tees);
        await WaitConsumedAsync(role, 3 * tees.Count + jeans.Count);
        Assert.Equal(tees.Count, role.Stats.Retaxonomised);
    }

    [Fact]
    public async Task A_knowledge_processor_whose_partitions_were_claimed_by_another_commits_nothing()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 3);
        await using var role = new Role(platform, _folder).Build();
        Publish(platform, Catalog().Where(u => u.ItemId.StartsWith("tee-", StringComparison.Ordinal)).Take(4));
        var batch = platform.ReadToEnd(Topics.ItemUpdates, 3);
        var partitions = Enumerable.Range(0, 3).Select(p => new Confluent.Kafka.TopicPartition(Topics.ItemUpdates, p)).ToList();
        role.Processor.OnAssigned(partitions);
        // Another consumer of the group claims the partitions while this one stalls (issue 8 B5).
        await ReaSeq.Ingestors.Streaming.PgOffsets.ClaimOffsetsAsync(platform.Db, $"{platform.KafkaOptions.GroupPrefix}.{role.Processor.Name}",
            [.. partitions.Select(p => (p.Topic, p.Partition.Value))], CancellationToken.None);

        await Assert.ThrowsAsync<ReaSeq.Ingestors.Streaming.PartitionFencedException>(() => role.Processor.HandleBatchAsync(batch, CancellationToken.None));
        Assert.Equal(0, await platform.ScalarAsync("select count(*) from item_knowledge"));
        Assert.Equal(0, await platform.ScalarAsync("select coalesce(sum(next_offset), 0) from consumer_offsets"));
    }

    /// <summary>A backend whose prompt version can be bumped, as an operator deploying new prompts does.</summary>
    private sealed class VersionedBackend(IKnowledgeAgentBackend inner) : IKnowledgeAgentBackend
    {
        public string Name => inner.Name;
        public string PromptVersion { get; set; } = inner.PromptVersion;
        public Task<DimensionTaxonomy> ExtractDemandTaxonomyAsync(DemandExtractionInput input, CancellationToken cancellationToken) =>
            inner.ExtractDemandTaxonomyAsync(input, cancellationToken);
        public Task<DimensionTaxonomy> ExtractAttributeTaxonomyAsync(AttributeExtractionInput input, CancellationToken cancellationToken) =>
            inner.ExtractAttributeTaxonomyAsync(input, cancellationToken);
        public Task<DimensionTaxonomy> RefineTaxonomyAsync(RefinementInput input, CancellationToken cancellationToken) =>
            inner.RefineTaxonomyAsync(input, cancellationToken);
        public Task<ItemAnalysis> AnalyzeItemAsync(ItemAnalysisInput input, CancellationToken cancellationToken) =>
            inner.AnalyzeItemAsync(input, cancellationToken);
    }

    private static async Task<Dictionary<string, CategoryTaxonomies>> LoadTaxonomiesAsync(TestPlatform platform, bool newest = false)
    {
        var result = new Dictionary<string, CategoryTaxonomies>();
        await using var cmd = platform.Db.CreateCommand(
            $"select category, body::text, version from taxonomies order by category, generation {(newest ? "asc" : "desc")}");
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var taxonomies = TaxonomyJson.Deserialize(reader.GetString(1));
            Assert.Equal(reader.GetString(2), taxonomies.Version);
            result[reader.GetString(0)] = taxonomies;
        }
        return result;
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
