using System.Net;
using System.Text.Json;
using ReaSeq.Api.Features;
using ReaSeq.Contracts;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Api;

/// <summary>Contract tests of the read endpoints and the OpenAPI document, on the role as the host composes it.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class FeatureEndpointTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Sequence_knowledge_similar_and_openapi_answer_with_their_documented_shapes_and_errors()
    {
        await using var api = await ApiHarness.StartAsync(postgres);
        for (var i = 0; i < 6; i++) await api.AddItemAsync($"i{i}", i < 3 ? "garden" : "kitchen", 10 + i, ApiHarness.Vector(i < 3 ? 0 : 5, spread: 0.1f * i));
        await api.AddClicksAsync("u1", ["i0", "i1", "i3"]);

        // Sequence before any SequenceUpdate: the retained clicks are the window, no gaps, no fills.
        var early = await GetJson(api, "/v1/users/u1/sequence");
        Assert.Equal(3, early.GetProperty("history_length").GetInt32());
        Assert.Equal(["i0", "i1", "i3"], early.GetProperty("window").EnumerateArray().Select(e => e.GetProperty("item_id").GetString()!).ToArray());

        // After the sequence and dllm roles published: window, gaps with reasons, fills with nearest items.
        api.Publish(Topics.SequenceGaps, "u1", new SequenceUpdate
        {
            UserId = "u1",
            SequenceVersion = 3,
            Variant = "TDCD",
            TsMs = 1_003_000,
            Window = [new() { ItemId = "i0", TsMs = 1_000_000, Category = "garden" }, new() { ItemId = "i1", TsMs = 1_001_000, Category = "garden" },
                      new() { ItemId = "i3", TsMs = 1_002_000, Category = "kitchen" }],
            Gaps = [new() { Position = 2, Reasons = [GapReason.CD, GapReason.TD], DeltaMs = 1_000, ThresholdMs = 500, PrevCategory = "garden", NextCategory = "kitchen", Rank = -1 }],
        });
        api.Publish(Topics.AugmentedSequences, "u1", new AugmentedSequence
        {
            UserId = "u1",
            SequenceVersion = 3,
            Observed = ["i0", "i1", "i3"],
            ModelVersion = "gbr-7",
            TsMs = 1_003_000,
            Filled = [new() { Position = 2, Vector = [.. ApiHarness.Vector(2)], Nearest = [new() { ItemId = "i2", Score = 0.93f }] }],
        });
        JsonElement view = default;
        await TestPlatform.WaitUntilAsync(async () =>
        {
            view = await GetJson(api, "/v1/users/u1/sequence");
            return view.GetProperty("fills").GetArrayLength() == 1 && view.GetProperty("gaps").GetArrayLength() == 1;
        }, TimeSpan.FromSeconds(30), "the materialised sequence and fills");
        Assert.Equal(3, view.GetProperty("sequence_version").GetInt64());
        Assert.Equal(["CD", "TD"], view.GetProperty("gaps")[0].GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!).ToArray());
        Assert.Equal("i2", view.GetProperty("fills")[0].GetProperty("nearest")[0].GetProperty("item_id").GetString());
        Assert.Equal(JsonValueKind.Null, view.GetProperty("fills")[0].GetProperty("vector").ValueKind);
        var withVectors = await GetJson(api, "/v1/users/u1/sequence?include_vectors=true");
        Assert.Equal(16, withVectors.GetProperty("fills")[0].GetProperty("vector").GetArrayLength());

        await AssertProblem(api, "/v1/users/nobody/sequence", HttpStatusCode.NotFound);
        await AssertProblem(api, "/v1/users/" + new string('u', 300) + "/sequence", HttpStatusCode.BadRequest);

        // Knowledge: dimensions with evidence, semantic id, versions.
        var knowledge = await GetJson(api, "/v1/items/i1/knowledge");
        Assert.Equal("garden", knowledge.GetProperty("category").GetString());
        Assert.Equal("a gift for i1", knowledge.GetProperty("demand")[0].GetProperty("evidence")[0].GetString());
        Assert.Equal([1, 2], knowledge.GetProperty("semantic_id").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.Equal("tax-v1", knowledge.GetProperty("versions").GetProperty("taxonomy").GetString());
        Assert.Equal(16, knowledge.GetProperty("vector_dimension").GetInt32());
        await AssertProblem(api, "/v1/items/missing/knowledge", HttpStatusCode.NotFound);

        // Similar: the nearest items by knowledge vector, itself excluded, best first.
        await api.Service<SimilarityIndex>().WhenReady.WaitAsync(TimeSpan.FromSeconds(30));
        await TestPlatform.WaitUntilAsync(async () => (await api.Http.GetAsync("/v1/items/i5/similar?k=5")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "the seeded vectors in the similarity index");
        var similar = await GetJson(api, "/v1/items/i0/similar?k=2");
        var ids = similar.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("item_id").GetString()!).ToArray();
        Assert.Equal(["i1", "i2"], ids);
        var scores = similar.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("score").GetSingle()).ToArray();
        Assert.True(scores[0] >= scores[1]);
        await AssertProblem(api, "/v1/items/i0/similar?k=0", HttpStatusCode.BadRequest);
        await AssertProblem(api, "/v1/items/i0/similar?k=100000", HttpStatusCode.BadRequest);
        await AssertProblem(api, "/v1/items/i0/similar?k=abc", HttpStatusCode.BadRequest);
        await AssertProblem(api, "/v1/items/missing/similar", HttpStatusCode.NotFound);

        // A vector published by the knowledge role after start reaches the index through the topic.
        api.Publish(Topics.ItemKnowledge, "i9", new ItemKnowledge { ItemId = "i9", Category = "garden", Vector = [.. ApiHarness.Vector(0)], TsMs = 5 });
        await TestPlatform.WaitUntilAsync(async () => (await api.Http.GetAsync("/v1/items/i9/similar?k=1")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "i9 in the similarity index");

        // OpenAPI lists every endpoint.
        var openapi = await GetJson(api, "/openapi/v1.json");
        var paths = openapi.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/v1/users/{id}/sequence", paths);
        Assert.Contains("/v1/items/{id}/knowledge", paths);
        Assert.Contains("/v1/items/{id}/similar", paths);

        await AssertProblem(api, "/v1/nothing-here", HttpStatusCode.NotFound);
    }

    public static async Task<JsonElement> GetJson(ApiHarness api, string path)
    {
        using var response = await api.Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static async Task<JsonElement> AssertProblem(ApiHarness api, string path, HttpStatusCode status) =>
        await AssertProblem(await api.Http.GetAsync(path), status);

    public static async Task<JsonElement> AssertProblem(HttpResponseMessage response, HttpStatusCode status)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(body).RootElement.Clone();
            Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
            Assert.DoesNotContain("   at ", body, StringComparison.Ordinal); // never a stack trace
            return problem;
        }
    }
}
