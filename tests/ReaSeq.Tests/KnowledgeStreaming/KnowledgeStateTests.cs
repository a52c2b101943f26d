using Microsoft.Extensions.Configuration;
using ReaSeq.Contracts;
using ReaSeq.Ingestors.Ingest;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Knowledge;
using ReaSeq.Processors.Knowledge.Streaming;
using ReaSeq.Processors.Knowledge.Taxonomy;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.KnowledgeStreaming;

/// <summary>The role's PostgreSQL-backed parts on their own: taxonomy cache, catalog corpus, and option validation.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class KnowledgeStateTests(PostgresFixture postgres)
{
    private static CategoryTaxonomies Taxonomies(CategoryPath category) => new(
        new DimensionTaxonomy(category, Perspective.Demand,
            [new TaxonomyDimension("warmth", "how warm it keeps", ["warm hoodie", "winter"], DimensionOrigin.Adapted, "winter queries dominate")], "from queries"),
        new DimensionTaxonomy(category, Perspective.Attribute, [new TaxonomyDimension("material", "fabric", ["material", "fabric"])], "from attributes"),
        "v1", "extractive");

    [Fact]
    public async Task Taxonomies_survive_a_new_cache_instance_with_their_version_and_the_first_stored_one_stays_canonical()
    {
        await using var db = Npgsql.NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var category = CategoryPath.Of("Apparel", "Hoodies");
        var key = TaxonomyCacheKey.For(category, "v1", "extractive");
        var original = Taxonomies(category);
        await new PostgresTaxonomyCache(db).SetAsync(key, original, CancellationToken.None);

        var fresh = new PostgresTaxonomyCache(db);
        var loaded = await fresh.TryGetAsync(key, CancellationToken.None);
        Assert.NotNull(loaded);
        Assert.Equal(original.Version, loaded.Version);
        Assert.Equal(DimensionOrigin.Adapted, loaded.Demand.Dimensions[0].Origin);
        Assert.Equal("winter queries dominate", loaded.Demand.Dimensions[0].Justification);
        Assert.Null(await fresh.TryGetAsync(key with { PromptVersion = "v2" }, CancellationToken.None));

        // A concurrent builder's different result does not replace the stored taxonomy.
        var other = original with { Demand = original.Demand with { Dimensions = [new TaxonomyDimension("comfort", "how it feels", ["soft"])] } };
        Assert.NotEqual(original.Version, other.Version);
        await fresh.SetAsync(key, other, CancellationToken.None);
        Assert.Equal(original.Version, (await fresh.TryGetAsync(key, CancellationToken.None))!.Version);

        await fresh.RemoveAsync(key, CancellationToken.None);
        Assert.Null(await new PostgresTaxonomyCache(db).TryGetAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task The_corpus_combines_the_catalog_with_the_overlay_and_samples_deterministically()
    {
        await using var db = Npgsql.NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var catalog = new PostgresCatalogStore(db);
        var rows = Enumerable.Range(0, 30).Select(i => new ItemUpdate
        {
            ItemId = $"c-{i}",
            Title = $"Catalog item {i}",
            CategoryPath = i % 2 == 0 ? ["Home", "Lighting"] : ["Home", "Tableware"],
            Attributes = new() { ["colour"] = "white" },
            TsMs = 1_700_000_000_000,
        }).Append(new ItemUpdate { ItemId = "gone", Title = "Deleted lamp", CategoryPath = ["Home", "Lighting"], TsMs = 1_700_000_000_000, Op = ItemOp.DELETE })
          .ToList();
        await catalog.CommitAsync("test", rows, [], CancellationToken.None);

        var corpus = new PostgresCategoryCorpus(db);
        corpus.Upsert([new KnowledgeItem("o-1", "Overlay lantern", null, ["Home", "Lighting", "Lanterns"]), new KnowledgeItem("o-2", "No category")]);
        var categories = (await corpus.ListCategoriesAsync(CancellationToken.None)).Select(c => c.ToString()).ToList();
        Assert.Equal(["Home", "Home > Lighting", "Home > Lighting > Lanterns", "Home > Tableware"], categories);

        var lighting = await corpus.GetCorpusAsync(CategoryPath.Of("Home", "Lighting"), 100, CancellationToken.None);
        Assert.Equal(16, lighting.Items.Count); // 15 catalog rows (the deleted one excluded) + the overlay item
        Assert.Contains(lighting.Items, i => i.ItemId == "o-1");
        Assert.All(lighting.Items, i => Assert.True(i.CategoryPath.StartsWith(CategoryPath.Of("Home", "Lighting"))));
        Assert.Equal("white", lighting.Items.First(i => i.ItemId == "c-0").Attributes["colour"]);

        var sampleA = await corpus.GetCorpusAsync(CategoryPath.Of("Home"), 7, CancellationToken.None);
        var sampleB = await new PostgresCategoryCorpus(db).GetCorpusAsync(CategoryPath.Of("Home"), 7, CancellationToken.None);
        Assert.Equal(7, sampleA.Items.Count);
        // Same catalog rows in the same order from a fresh instance (the overlay item may take one slot in A).
        Assert.Equal(sampleB.Items.Select(i => i.ItemId).Where(id => id != "o-1").Take(6), sampleA.Items.Select(i => i.ItemId).Where(id => id != "o-1").Take(6));
    }

    [Theory]
    [InlineData("Knowledge:VectorStore:Backend", "qdrant", "Url")]
    [InlineData("Knowledge:VectorStore:Backend", "faiss", "faiss")]
    [InlineData("Knowledge:Agents:Backend", "gpt-magic", "extractive, openai or llamasharp")]
    [InlineData("Knowledge:SemanticIds:CodebookSize", "1", "CodebookSize")]
    [InlineData("Knowledge:MaxConcurrency", "0", "MaxConcurrency")]
    public async Task Invalid_configuration_stops_the_role_at_start_with_the_setting_named(string key, string value, string expected)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Postgres:ConnectionString"] = "Host=127.0.0.1;Port=1;Username=nobody",
            [key] = value,
        });
        builder.Services.AddStreamingRuntime(builder.Configuration);
        builder.Services.AddKnowledgeRole(builder.Configuration);
        using var host = builder.Build();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        Assert.Contains(expected, error.ToString());
    }
}
