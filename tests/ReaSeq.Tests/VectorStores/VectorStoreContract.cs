using ReaSeq.Contracts.Stores;

namespace ReaSeq.Tests.VectorStores;

/// <summary>
/// Behaviour every <see cref="IVectorStore"/> backend must show. A backend's test class derives from this and
/// says how to create an empty store; all tests below then run against it.
/// </summary>
public abstract class VectorStoreContract : IAsyncLifetime
{
    private const float ScoreTolerance = 1e-4f;
    private readonly List<IVectorStore> _stores = new();

    /// <summary>A new, empty store of the given dimension.</summary>
    protected abstract Task<IVectorStore> CreateEmptyStoreAsync(int dimension);

    /// <summary>Releases a store created by this test (and whatever it holds outside the process).</summary>
    protected virtual Task ReleaseAsync(IVectorStore store) => store.DisposeAsync().AsTask();

    protected async Task<IVectorStore> NewStoreAsync(int dimension = 4)
    {
        var store = await CreateEmptyStoreAsync(dimension);
        _stores.Add(store);
        return store;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await ReleaseAsync(store);
        }
    }

    protected static Dictionary<string, string> Payload(params (string Key, string Value)[] entries) =>
        entries.ToDictionary(entry => entry.Key, entry => entry.Value);

    [ContractFact]
    public async Task Upsert_then_get_returns_the_unit_length_vector_and_payload()
    {
        var store = await NewStoreAsync();
        await store.UpsertAsync([new VectorPoint("item-1", [3, 4, 0, 0], Payload(("category", "shoes")))]);

        var point = await store.GetAsync("item-1");

        Assert.NotNull(point);
        Assert.Equal("item-1", point.Id);
        Assert.Equal([0.6f, 0.8f, 0f, 0f], point.Vector, (a, b) => Math.Abs(a - b) < 1e-5f);
        Assert.Equal(Payload(("category", "shoes")), point.Payload);
        Assert.Null(await store.GetAsync("item-2"));
    }

    [ContractFact]
    public async Task Upsert_of_an_existing_id_replaces_vector_and_payload()
    {
        var store = await NewStoreAsync();
        await store.UpsertAsync([new VectorPoint("item-1", [1, 0, 0, 0], Payload(("color", "red")))]);
        await store.UpsertAsync([new VectorPoint("item-1", [0, 0, 2, 0], Payload(("color", "blue")))]);

        var point = await store.GetAsync("item-1");

        Assert.Equal(1, await store.CountAsync());
        Assert.Equal([0f, 0f, 1f, 0f], point!.Vector, (a, b) => Math.Abs(a - b) < 1e-5f);
        Assert.Equal("blue", point.Payload["color"]);
        Assert.Empty(await store.SearchAsync(new float[] { 1, 0, 0, 0 }, 5, PayloadFilter.Equal("color", "red")));
        var hit = Assert.Single(await store.SearchAsync(new float[] { 0, 0, 1, 0 }, 5, PayloadFilter.Equal("color", "blue")));
        Assert.Equal(1f, hit.Score, ScoreTolerance);
    }

    [ContractFact]
    public async Task Search_returns_the_top_k_ordered_by_cosine_similarity()
    {
        var store = await NewStoreAsync();
        // Magnitudes differ on purpose: cosine similarity ignores them.
        await store.UpsertAsync(
        [
            new VectorPoint("same", [5, 0, 0, 0]),
            new VectorPoint("close", [2, 0.5f, 0, 0]),
            new VectorPoint("diagonal", [1, 1, 0, 0]),
            new VectorPoint("orthogonal", [0, 3, 0, 0]),
            new VectorPoint("opposite", [-1, 0, 0, 0]),
        ]);

        var hits = await store.SearchAsync(new float[] { 0.5f, 0, 0, 0 }, 4);

        Assert.Equal(["same", "close", "diagonal", "orthogonal"], hits.Select(hit => hit.Id));
        Assert.Equal(1f, hits[0].Score, ScoreTolerance);
        Assert.Equal(2f / MathF.Sqrt(4.25f), hits[1].Score, ScoreTolerance);
        Assert.Equal(1f / MathF.Sqrt(2f), hits[2].Score, ScoreTolerance);
        Assert.Equal(0f, hits[3].Score, ScoreTolerance);
    }

    [ContractFact]
    public async Task Filter_keeps_only_points_whose_payload_has_every_key_value()
    {
        var store = await NewStoreAsync();
        await store.UpsertAsync(
        [
            new VectorPoint("blue-1", [1, 0, 0, 0], Payload(("color", "blue"), ("size", "s"))),
            new VectorPoint("blue-2", [0.9f, 0.1f, 0, 0], Payload(("color", "blue"), ("size", "m"))),
            new VectorPoint("red-far", [0, 1, 0, 0], Payload(("color", "red"), ("size", "s"))),
            new VectorPoint("red-near", [0.5f, 0.5f, 0, 0], Payload(("color", "red"), ("size", "m"))),
            new VectorPoint("red-farthest", [0, 0, 0, 1], Payload(("color", "red"), ("size", "s"))),
        ]);
        var query = new float[] { 1, 0, 0, 0 };

        // The best points overall are blue: a filter applied after taking the top 2 would return nothing red.
        var red = await store.SearchAsync(query, 2, PayloadFilter.Equal("color", "red"));
        var redSmall = await store.SearchAsync(query, 5, PayloadFilter.Equal("color", "red").And("size", "s"));
        var green = await store.SearchAsync(query, 5, PayloadFilter.Equal("color", "green"));

        Assert.Equal(["red-near", "red-far"], red.Select(hit => hit.Id));
        Assert.All(red, hit => Assert.Equal("red", hit.Payload["color"]));
        Assert.Equal(["red-far", "red-farthest"], redSmall.Select(hit => hit.Id));
        Assert.Empty(green);
    }

    [ContractFact]
    public async Task Batched_search_equals_the_single_searches()
    {
        const int dimension = 16;
        var store = await NewStoreAsync(dimension);
        var random = new Random(7);
        var points = Enumerable.Range(0, 300)
            .Select(i => new VectorPoint($"p{i}", RandomVector(random, dimension), Payload(("shard", (i % 3).ToString()))))
            .ToList();
        await store.UpsertAsync(points);
        var queries = Enumerable.Range(0, 12)
            .Select(i => new VectorQuery(RandomVector(random, dimension), 1 + i * 3,
                i % 3 == 0 ? PayloadFilter.Equal("shard", (i % 2).ToString()) : null))
            .ToList();

        var batched = await store.SearchBatchAsync(queries);

        Assert.Equal(queries.Count, batched.Count);
        for (int i = 0; i < queries.Count; i++)
        {
            var single = await store.SearchAsync(queries[i].Vector, queries[i].Limit, queries[i].Filter);
            Assert.Equal(single.Select(hit => hit.Id), batched[i].Select(hit => hit.Id));
            Assert.Equal(single.Select(hit => hit.Score), batched[i].Select(hit => hit.Score),
                (a, b) => Math.Abs(a - b) < ScoreTolerance);
            Assert.Equal(queries[i].Limit, batched[i].Count);
        }
    }

    [ContractFact]
    public async Task Delete_removes_points_and_leaves_the_others_intact()
    {
        var store = await NewStoreAsync();
        await store.UpsertAsync(
        [
            new VectorPoint("a", [1, 0, 0, 0], Payload(("group", "x"))),
            new VectorPoint("b", [0, 1, 0, 0], Payload(("group", "y"))),
            new VectorPoint("c", [0, 0, 1, 0], Payload(("group", "x"))),
            new VectorPoint("d", [0, 0, 0, 1], Payload(("group", "y"))),
        ]);

        await store.DeleteAsync(["a", "not-there"]);

        Assert.Equal(3, await store.CountAsync());
        Assert.Null(await store.GetAsync("a"));
        Assert.DoesNotContain("a", (await store.SearchAsync(new float[] { 1, 0, 0, 0 }, 10)).Select(hit => hit.Id));
        // Every remaining point is still found by its own vector and its payload.
        foreach (var (id, vector, group) in new[] { ("b", new float[] { 0, 1, 0, 0 }, "y"), ("c", [0, 0, 1, 0], "x"), ("d", [0, 0, 0, 1], "y") })
        {
            var best = (await store.SearchAsync(vector, 1, PayloadFilter.Equal("group", group)))[0];
            Assert.Equal(id, best.Id);
            Assert.Equal(1f, best.Score, ScoreTolerance);
            Assert.Equal(vector, (await store.GetAsync(id))!.Vector, (a, b) => Math.Abs(a - b) < 1e-5f);
        }

        Assert.Equal(["c"], (await store.SearchAsync(new float[] { 1, 0, 0, 0 }, 5, PayloadFilter.Equal("group", "x")))
            .Select(hit => hit.Id));
    }

    [ContractFact]
    public async Task Count_follows_inserts_overwrites_and_deletes()
    {
        var store = await NewStoreAsync();
        Assert.Equal(0, await store.CountAsync());

        await store.UpsertAsync([new VectorPoint("a", [1, 0, 0, 0]), new VectorPoint("b", [0, 1, 0, 0])]);
        Assert.Equal(2, await store.CountAsync());

        await store.UpsertAsync([new VectorPoint("b", [0, 0, 1, 0]), new VectorPoint("c", [0, 0, 0, 1])]);
        Assert.Equal(3, await store.CountAsync());

        await store.DeleteAsync(["a", "b", "c"]);
        Assert.Equal(0, await store.CountAsync());
    }

    [ContractFact]
    public async Task Wrong_dimension_is_rejected_with_a_clear_argument_exception()
    {
        var store = await NewStoreAsync();

        var upsert = await Assert.ThrowsAnyAsync<ArgumentException>(
            () => store.UpsertAsync([new VectorPoint("a", [1, 0, 0])]));
        var search = await Assert.ThrowsAnyAsync<ArgumentException>(
            () => store.SearchAsync(new float[] { 1, 0, 0, 0, 0 }, 3));
        var batch = await Assert.ThrowsAnyAsync<ArgumentException>(
            () => store.SearchBatchAsync([new VectorQuery(new float[] { 1, 0, 0, 0 }, 1), new VectorQuery(new float[] { 1 }, 1)]));

        Assert.Contains("3 dimensions", upsert.Message);
        Assert.Contains("4-dimensional", upsert.Message);
        Assert.Contains("5 dimensions", search.Message);
        Assert.Contains("1 dimensions", batch.Message);
        Assert.Equal(0, await store.CountAsync());
    }

    [ContractFact]
    public async Task Unusable_input_is_rejected_before_anything_is_written()
    {
        var store = await NewStoreAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync(
            [new VectorPoint("fine", [1, 0, 0, 0]), new VectorPoint("zero", [0, 0, 0, 0])]));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync([new VectorPoint("nan", [float.NaN, 1, 0, 0])]));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync([new VectorPoint("", [1, 0, 0, 0])]));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync(
            [new VectorPoint("reserved", [1, 0, 0, 0], Payload((VectorPoint.ReservedPayloadKey, "x")))]));
        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => store.SearchAsync(new float[] { 1, 0, 0, 0 }, 0));

        Assert.Equal(0, await store.CountAsync());
    }

    [ContractFact]
    public async Task Searching_an_empty_store_returns_no_hits()
    {
        var store = await NewStoreAsync();

        Assert.Empty(await store.SearchAsync(new float[] { 1, 0, 0, 0 }, 5));
        Assert.Empty(await store.SearchAsync(new float[] { 1, 0, 0, 0 }, 5, PayloadFilter.Equal("color", "red")));
        var batched = await store.SearchBatchAsync([new VectorQuery(new float[] { 1, 0, 0, 0 }, 3), new VectorQuery(new float[] { 0, 1, 0, 0 }, 1)]);
        Assert.Equal(2, batched.Count);
        Assert.All(batched, Assert.Empty);
    }

    [ContractFact]
    public async Task A_limit_above_the_count_returns_every_point_in_order()
    {
        var store = await NewStoreAsync();
        await store.UpsertAsync(
        [
            new VectorPoint("second", [1, 1, 0, 0]),
            new VectorPoint("third", [0, 1, 0, 0]),
            new VectorPoint("first", [1, 0, 0, 0]),
        ]);

        var hits = await store.SearchAsync(new float[] { 1, 0, 0, 0 }, 100);

        Assert.Equal(["first", "second", "third"], hits.Select(hit => hit.Id));
    }

    protected static float[] RandomVector(Random random, int dimension)
    {
        var vector = new float[dimension];
        for (int i = 0; i < dimension; i++)
        {
            vector[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return vector;
    }
}
