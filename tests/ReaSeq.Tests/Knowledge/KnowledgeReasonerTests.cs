using ReaSeq.Processors.Knowledge;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Agents.Extractive;
using ReaSeq.Processors.Knowledge.Encoders;
using ReaSeq.Processors.Knowledge.Taxonomy;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Knowledge;

/// <summary>Counts calls per layer and passes them on to a real backend.</summary>
internal sealed class CountingBackend(IKnowledgeAgentBackend inner) : IKnowledgeAgentBackend
{
    public int Layer1Calls;
    public int Layer2Calls;
    public int Layer3Calls;
    public string Name => inner.Name;
    public string PromptVersion => inner.PromptVersion;

    public async Task<DimensionTaxonomy> ExtractDemandTaxonomyAsync(DemandExtractionInput input, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Layer1Calls);
        await Task.Delay(50, cancellationToken); // widen the window in which concurrent callers could race
        return await inner.ExtractDemandTaxonomyAsync(input, cancellationToken);
    }

    public Task<DimensionTaxonomy> ExtractAttributeTaxonomyAsync(AttributeExtractionInput input, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Layer1Calls);
        return inner.ExtractAttributeTaxonomyAsync(input, cancellationToken);
    }

    public Task<DimensionTaxonomy> RefineTaxonomyAsync(RefinementInput input, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Layer2Calls);
        return inner.RefineTaxonomyAsync(input, cancellationToken);
    }

    public Task<ItemAnalysis> AnalyzeItemAsync(ItemAnalysisInput input, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Layer3Calls);
        return inner.AnalyzeItemAsync(input, cancellationToken);
    }
}

[Collection(EncoderCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class KnowledgeReasonerTests(EncoderFixture fixture)
{
    private static readonly CategoryPath Jeans = CategoryPath.Of("Apparel", "Bottoms", "Jeans");

    [Fact]
    public async Task Layers_1_and_2_run_once_per_category_level_and_then_come_from_the_cache()
    {
        var backend = new CountingBackend(new ExtractiveAgentBackend(fixture.Encoder));
        var cache = new InMemoryTaxonomyCache();
        using var metrics = new KnowledgeMetrics();
        using var recorder = new MetricRecorder(metrics);
        var reasoner = new KnowledgeReasoner(backend, fixture.Encoder, cache, new InMemoryCategoryCorpus(KnowledgeTestData.Apparel()), metrics: metrics);

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => reasoner.GetTaxonomiesAsync(Jeans, default)));
        await reasoner.AnalyzeItemAsync(KnowledgeTestData.Apparel().First(i => i.CategoryPath == Jeans), default);

        Assert.Equal(2, backend.Layer1Calls);  // demand + attribute of "Apparel"
        Assert.Equal(4, backend.Layer2Calls);  // two perspectives each for "Apparel > Bottoms" and "... > Jeans"
        Assert.Equal(1, backend.Layer3Calls);
        Assert.Equal(3, cache.Count);
        Assert.All(concurrent, t => Assert.Equal(concurrent[0].Version, t.Version));
        Assert.True(recorder.Sum("reaseq.knowledge.taxonomy_cache.hits") >= 1);
        Assert.Equal(3, recorder.Sum("reaseq.knowledge.taxonomy_cache.misses"));
        Assert.Equal(7, recorder.Sum("reaseq.knowledge.agent.calls", "outcome", "ok"));
        Assert.Equal(7, recorder.Count("reaseq.knowledge.agent.latency"));
    }

    [Fact]
    public async Task A_taxonomy_is_rebuilt_as_a_new_generation_once_its_category_has_grown_by_the_factor()
    {
        var tees = CategoryPath.Of("Apparel", "Tops", "T-Shirts");
        var apparel = KnowledgeTestData.Apparel();
        var first = apparel.Where(i => i.CategoryPath == tees).Take(2).ToList();
        var corpus = new InMemoryCategoryCorpus(first);
        var backend = new CountingBackend(new ExtractiveAgentBackend(fixture.Encoder));
        var cache = new InMemoryTaxonomyCache();
        using var metrics = new KnowledgeMetrics();
        using var recorder = new MetricRecorder(metrics);
        var options = new KnowledgeReasonerOptions { RebuildGrowthFactor = 2, RebuildMinNewItems = 1, RebuildCheckMs = 0 };
        var reasoner = new KnowledgeReasoner(backend, fixture.Encoder, cache, corpus, options, metrics);

        var built = await reasoner.GetTaxonomiesAsync(tees, default);
        var primary = (await cache.TryGetAsync(reasoner.CacheKey(tees.Prefix(1)), default))!;
        Assert.Equal((1, 1, 2), (built.Generation, primary.Generation, primary.CorpusItems));
        Assert.Equal(2, backend.Layer1Calls);

        // One more item (3 < 2 × 2): not grown enough, the taxonomy stays.
        corpus.Upsert(apparel.First(i => !first.Contains(i)));
        Assert.Equal(built.Version, (await reasoner.GetTaxonomiesAsync(tees, default)).Version);
        Assert.Equal(2, backend.Layer1Calls);

        // The whole catalog: layer 1 runs again for the primary, and the refinements below it follow their new parent.
        foreach (var item in apparel) corpus.Upsert(item);
        var rebuilt = await reasoner.GetTaxonomiesAsync(tees, default);
        var newPrimary = (await cache.TryGetAsync(reasoner.CacheKey(tees.Prefix(1)), default))!;
        var newTops = (await cache.TryGetAsync(reasoner.CacheKey(tees.Prefix(2)), default))!;
        Assert.Equal(4, backend.Layer1Calls);
        Assert.Equal((2, apparel.Count), (newPrimary.Generation, newPrimary.CorpusItems));
        Assert.NotEqual(primary.Version, newPrimary.Version);
        Assert.Equal((2, newPrimary.Version), (newTops.Generation, newTops.ParentVersion));
        Assert.Equal((2, newTops.Version), (rebuilt.Generation, rebuilt.ParentVersion));
        Assert.Equal(3, recorder.Sum("reaseq.knowledge.taxonomy.rebuilds"));
        // Settled: asking again rebuilds nothing.
        Assert.Equal(rebuilt.Version, (await reasoner.GetTaxonomiesAsync(tees, default)).Version);
        Assert.Equal(4, backend.Layer1Calls);

        // A factor of 0 never rebuilds.
        var never = new KnowledgeReasoner(backend, fixture.Encoder, new InMemoryTaxonomyCache(), new InMemoryCategoryCorpus(first),
            new KnowledgeReasonerOptions { RebuildGrowthFactor = 0, RebuildCheckMs = 0 });
        var once = await never.GetTaxonomiesAsync(tees, default);
        Assert.Equal(once.Version, (await never.GetTaxonomiesAsync(tees, default)).Version);
    }

    [Fact]
    public void A_stored_taxonomy_keeps_its_generation_and_a_body_from_before_generations_reads_as_the_first()
    {
        var taxonomy = new CategoryTaxonomies(Dimension(Perspective.Demand), Dimension(Perspective.Attribute), "p1", "b1")
        {
            Generation = 3,
            CorpusItems = 17,
            ParentVersion = "abc",
        };
        var read = ReaSeq.Processors.Knowledge.Streaming.TaxonomyJson.Deserialize(ReaSeq.Processors.Knowledge.Streaming.TaxonomyJson.Serialize(taxonomy));
        Assert.Equal((3, 17, "abc", taxonomy.Version), (read.Generation, read.CorpusItems, read.ParentVersion, read.Version));

        var old = System.Text.Json.Nodes.JsonNode.Parse(ReaSeq.Processors.Knowledge.Streaming.TaxonomyJson.Serialize(taxonomy))!.AsObject();
        old.Remove("Generation");
        old.Remove("CorpusItems");
        old.Remove("ParentVersion");
        var legacy = ReaSeq.Processors.Knowledge.Streaming.TaxonomyJson.Deserialize(old.ToJsonString());
        Assert.Equal((1, 0, ""), (legacy.Generation, legacy.CorpusItems, legacy.ParentVersion));

        static DimensionTaxonomy Dimension(Perspective perspective) => new(CategoryPath.Of("Apparel"), perspective,
            [new TaxonomyDimension("Use", "what it is for", ["summer"], DimensionOrigin.Extracted, null)], "why");
    }

    [Fact]
    public async Task Cache_keys_separate_categories_prompt_versions_and_backends()
    {
        var cache = new InMemoryTaxonomyCache();
        var reasoner = new KnowledgeReasoner(new ExtractiveAgentBackend(fixture.Encoder), fixture.Encoder, cache,
            new InMemoryCategoryCorpus(KnowledgeTestData.Apparel()));
        var key = reasoner.CacheKey(Jeans);
        Assert.Equal(new TaxonomyCacheKey("Apparel > Bottoms > Jeans", "v1", "extractive"), key);
        Assert.NotEqual(key, TaxonomyCacheKey.For(Jeans, "v2", "extractive"));
        Assert.NotEqual(key, TaxonomyCacheKey.For(Jeans, "v1", "openai-chat/m"));

        var built = await reasoner.GetTaxonomiesAsync(Jeans, default);
        Assert.Same(built, await cache.TryGetAsync(key, default));
        var otherVersion = new KnowledgeReasoner(new ExtractiveAgentBackend(fixture.Encoder, promptVersion: "v2"), fixture.Encoder, cache,
            new InMemoryCategoryCorpus(KnowledgeTestData.Apparel()));
        await otherVersion.GetTaxonomiesAsync(Jeans, default);
        Assert.Equal(6, cache.Count);
    }

    [Fact]
    public async Task Perspective_text_joins_label_keyword_pairs()
    {
        Assert.Equal("Fit: slim, stretch; Colour: mid blue", KnowledgeEncoding.PerspectiveText([
            new DimensionKnowledge(Perspective.Demand, "Fit", ["slim"], "", ["slim", "stretch"]),
            new DimensionKnowledge(Perspective.Demand, "Colour", ["mid blue"], "", ["mid blue"]),
        ]));
        // A perspective without knowledge adds nothing: the vector is then just the other perspective's unit vector.
        var vector = KnowledgeEncoding.Encode(fixture.Encoder, [new DimensionKnowledge(Perspective.Attribute, "Fit", ["slim"], "", ["slim"])]);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 4);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Items_with_nothing_grounded_are_dead_lettered_with_a_reason()
    {
        var reasoner = new KnowledgeReasoner(new UngroundedBackend(), fixture.Encoder, new InMemoryTaxonomyCache(),
            new InMemoryCategoryCorpus(KnowledgeTestData.Apparel()));
        var error = await Assert.ThrowsAsync<AgentOutputException>(() => reasoner.AnalyzeItemAsync(KnowledgeTestData.Apparel()[0], default));
        Assert.Equal(AgentOutputFailure.NoGroundedKnowledge, error.Reason);
    }

    [Fact]
    public void Content_hash_changes_with_any_metadata_and_only_then()
    {
        var item = KnowledgeTestData.Apparel()[0];
        var same = new KnowledgeItem(item.ItemId, item.Title, item.Description, item.CategoryPath.Segments,
            item.Attributes.Reverse().ToDictionary(a => a.Key, a => a.Value));
        var changed = new KnowledgeItem(item.ItemId, item.Title, item.Description, item.CategoryPath.Segments,
            item.Attributes.ToDictionary(a => a.Key, a => a.Key == "colour" ? "blue" : a.Value));
        Assert.Equal(item.ContentHash(), same.ContentHash());
        Assert.NotEqual(item.ContentHash(), changed.ContentHash());
    }

    [Fact]
    public async Task Classification_without_any_categorised_item_is_a_clear_error()
    {
        var reasoner = new KnowledgeReasoner(new ExtractiveAgentBackend(fixture.Encoder), fixture.Encoder, new InMemoryTaxonomyCache(),
            new InMemoryCategoryCorpus());
        await Assert.ThrowsAsync<InvalidOperationException>(() => reasoner.AnalyzeItemAsync(new KnowledgeItem("x", "lamp"), default));
    }

    /// <summary>A backend whose every layer-3 span is invented.</summary>
    private sealed class UngroundedBackend : IKnowledgeAgentBackend
    {
        public string Name => "ungrounded";
        public string PromptVersion => "v1";

        private static DimensionTaxonomy Taxonomy(CategoryPath category, Perspective perspective) =>
            new(category, perspective, [new TaxonomyDimension("Quality", "", [])], "");

        public Task<DimensionTaxonomy> ExtractDemandTaxonomyAsync(DemandExtractionInput input, CancellationToken cancellationToken) =>
            Task.FromResult(Taxonomy(input.Category, Perspective.Demand));
        public Task<DimensionTaxonomy> ExtractAttributeTaxonomyAsync(AttributeExtractionInput input, CancellationToken cancellationToken) =>
            Task.FromResult(Taxonomy(input.Category, Perspective.Attribute));
        public Task<DimensionTaxonomy> RefineTaxonomyAsync(RefinementInput input, CancellationToken cancellationToken) =>
            Task.FromResult(Taxonomy(input.SubCategory, input.Parent.Perspective));
        public Task<ItemAnalysis> AnalyzeItemAsync(ItemAnalysisInput input, CancellationToken cancellationToken) =>
            Task.FromResult(new ItemAnalysis([new DimensionKnowledge(Perspective.Demand, "Quality", ["award-winning luxury"], "", ["luxury"])]));
    }
}

[Collection(EncoderCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class KnowledgeAgentBackendFactoryTests(EncoderFixture fixture)
{
    [Theory]
    [InlineData("")]
    [InlineData("extractive")]
    [InlineData(" Extractive ")]
    public void Without_a_model_the_extractive_backend_is_used(string configured)
    {
        var backend = KnowledgeAgentBackendFactory.Create(new KnowledgeAgentOptions { Backend = configured }, fixture.Encoder);
        Assert.IsType<ExtractiveAgentBackend>(backend);
        Assert.Equal("extractive", backend.Name);
    }

    [Fact]
    public void Unknown_backends_and_incomplete_model_settings_are_refused()
    {
        Assert.Throws<ArgumentException>(() => KnowledgeAgentBackendFactory.Create(new KnowledgeAgentOptions { Backend = "gpt" }, fixture.Encoder));
        Assert.Throws<ArgumentException>(() => KnowledgeAgentBackendFactory.Create(new KnowledgeAgentOptions { Backend = "openai" }, fixture.Encoder));
        Assert.Throws<ArgumentException>(() => KnowledgeAgentBackendFactory.Create(new KnowledgeAgentOptions { Backend = "llamasharp" }, fixture.Encoder));
    }

    [Fact]
    public async Task A_failed_taxonomy_build_is_not_remembered()
    {
        var corpus = new InMemoryCategoryCorpus();
        var reasoner = new KnowledgeReasoner(new ExtractiveAgentBackend(fixture.Encoder), fixture.Encoder, new InMemoryTaxonomyCache(), corpus);
        var jeans = CategoryPath.Of("Apparel", "Bottoms", "Jeans");
        await Assert.ThrowsAsync<InvalidOperationException>(() => reasoner.GetTaxonomiesAsync(jeans, default)); // no items yet
        foreach (var item in KnowledgeTestData.Apparel()) corpus.Upsert(item);
        var built = await reasoner.GetTaxonomiesAsync(jeans, default);
        Assert.Equal(jeans, built.Category);
    }
}
