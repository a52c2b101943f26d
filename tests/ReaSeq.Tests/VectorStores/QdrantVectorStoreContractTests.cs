using Qdrant.Client.Grpc;
using ReaSeq.Contracts.Stores;
using ReaSeq.Processors.VectorStores;

namespace ReaSeq.Tests.VectorStores;

/// <summary>The contract against a real Qdrant server (QDRANT_URL, optional QDRANT_API_KEY); each store gets its own
/// throw-away collection.</summary>
[RequiresEnvironmentVariable(QdrantFactAttribute.UrlVariable, "the Qdrant contract tests need a Qdrant server's gRPC endpoint, e.g. http://localhost:6334.")]
public sealed class QdrantVectorStoreContractTests : VectorStoreContract
{
    private static QdrantVectorStoreOptions OptionsFor(int dimension, string? collection = null) => new()
    {
        Url = Environment.GetEnvironmentVariable(QdrantFactAttribute.UrlVariable)!,
        ApiKey = Environment.GetEnvironmentVariable("QDRANT_API_KEY"),
        CollectionName = collection ?? $"reaseq-contract-{Guid.NewGuid():N}",
        Dimension = dimension,
    };

    protected override async Task<IVectorStore> CreateEmptyStoreAsync(int dimension) =>
        await QdrantVectorStore.CreateAsync(OptionsFor(dimension));

    protected override async Task ReleaseAsync(IVectorStore store)
    {
        await ((QdrantVectorStore)store).DeleteCollectionAsync();
        await store.DisposeAsync();
    }

    [QdrantFact]
    public async Task An_existing_collection_of_another_size_is_refused()
    {
        var store = (QdrantVectorStore)await NewStoreAsync(dimension: 8);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => QdrantVectorStore.CreateAsync(OptionsFor(16, store.CollectionName)));

        Assert.Contains("8-dimensional", error.Message);
        Assert.Contains("16-dimensional", error.Message);
    }

    [QdrantFact]
    public async Task A_second_client_on_the_same_collection_finds_points_by_their_string_ids()
    {
        var store = (QdrantVectorStore)await NewStoreAsync(dimension: 4);
        await store.UpsertAsync([new VectorPoint("sku:42/red", [0, 0, 1, 0], Payload(("color", "red")))]);

        await using var second = await QdrantVectorStore.CreateAsync(OptionsFor(4, store.CollectionName));

        Assert.Equal("red", (await second.GetAsync("sku:42/red"))!.Payload["color"]);
        Assert.Equal("sku:42/red", (await second.SearchAsync(new float[] { 0, 0, 1, 0 }, 1))[0].Id);
    }
}

/// <summary>The Qdrant translation layer, checked without a server.</summary>
public sealed class QdrantPointMappingTests
{
    [Fact]
    public void Point_ids_are_rfc4122_version5_uuids()
    {
        // Reference value of uuid5(NAMESPACE_DNS, "python.org") from RFC 4122 implementations.
        var dns = new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");

        Assert.Equal(new Guid("886313e1-3b8a-5372-9b90-0c9aee199e5d"), QdrantPointMapping.NameBasedGuid(dns, "python.org"));
        Assert.Equal(QdrantPointMapping.PointIdFor("item-1"), QdrantPointMapping.PointIdFor("item-1"));
        Assert.NotEqual(QdrantPointMapping.PointIdFor("item-1"), QdrantPointMapping.PointIdFor("item-2"));
    }

    [Fact]
    public void A_payload_filter_becomes_required_keyword_matches()
    {
        var filter = QdrantPointMapping.ToFilter(PayloadFilter.Equal("color", "red").And("size", "m"))!;

        Assert.Equal(2, filter.Must.Count);
        Assert.Equal(("color", "red"), (filter.Must[0].Field.Key, filter.Must[0].Field.Match.Keyword));
        Assert.Equal(("size", "m"), (filter.Must[1].Field.Key, filter.Must[1].Field.Match.Keyword));
        Assert.Empty(filter.Should);
        Assert.Null(QdrantPointMapping.ToFilter(null));
    }

    [Fact]
    public void A_point_keeps_its_string_id_in_the_payload_and_comes_back_unchanged()
    {
        var point = new VectorPoint("sku:42", [1, 2, 3], new Dictionary<string, string> { ["color"] = "red" });

        var pointStruct = QdrantPointMapping.ToPointStruct(point);
        var (id, payload) = QdrantPointMapping.FromPayload(pointStruct.Payload);

        Assert.Equal(QdrantPointMapping.PointIdFor("sku:42").ToString(), pointStruct.Id.Uuid);
        Assert.Equal("sku:42", id);
        Assert.Equal(new Dictionary<string, string> { ["color"] = "red" }, payload);
        Assert.Throws<InvalidOperationException>(() => QdrantPointMapping.FromPayload(new Dictionary<string, Value>()));
    }

    [Theory]
    [InlineData("localhost:6334")]
    [InlineData("ftp://localhost:6334")]
    [InlineData("")]
    public void A_malformed_url_is_refused_when_the_store_is_built(string url)
    {
        var error = Assert.ThrowsAny<ArgumentException>(
            () => new QdrantVectorStore(new QdrantVectorStoreOptions { Url = url, Dimension = 4 }));
        Assert.Contains("http://localhost:6334", error.Message);
    }
}
