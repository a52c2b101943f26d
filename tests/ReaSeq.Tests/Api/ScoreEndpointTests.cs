using System.Net;
using System.Text.Json;
using ReaSeq.Api.Scoring;
using ReaSeq.Contracts;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Api;

/// <summary>Contract tests of POST /v1/score and GET /v1/models with a real CTR model from the registry.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class ScoreEndpointTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Score_answers_per_candidate_with_the_model_version_and_rejects_bad_requests_as_problems()
    {
        await using var api = await ApiHarness.StartAsync(postgres, new Dictionary<string, string?>
        {
            ["Api:ModelPollMs"] = "200",
            ["Api:MaxRequestBytes"] = "65536",
            ["Api:Cache:MaxAgeMs"] = "3600000",
        });
        for (var i = 0; i < 12; i++) await api.AddItemAsync($"i{i}", i % 2 == 0 ? "garden" : "kitchen", 5 + i, ApiHarness.Vector(i % 4, TinyCtrModels.Dimension), [i % 3, i % 5]);
        await api.AddItemAsync("fresh", "garden", 9.5); // in the catalog, no knowledge yet
        await api.AddClicksAsync("u1", [.. Enumerable.Range(0, 30).Select(i => $"i{i % 12}")]);
        const string request = """{"user_id": "u1", "candidates": ["i1", "fresh", "ghost", "i2"], "context": {"page": "home"}}""";

        // No model registered yet: 503, not a made-up score.
        await FeatureEndpointTests.AssertProblem(await api.Http.PostAsync("/v1/score", ApiHarness.Json(request)), HttpStatusCode.ServiceUnavailable);

        await TinyCtrModels.RegisterAsync(api.Platform.Db, "ctr-v1", 1, TinyCtrModels.Checkpoint(1), auc: 0.61);
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(api.Service<CtrModelHolder>().Current?.Version == "ctr-v1"), TimeSpan.FromSeconds(30), "ctr-v1 served");

        var scored = await PostJson(api, request);
        Assert.Equal("ctr-v1", scored.GetProperty("model_version").GetString());
        Assert.Equal("known", scored.GetProperty("user_status").GetString());
        Assert.Equal(30, scored.GetProperty("history_length").GetInt32());
        var scores = scored.GetProperty("scores").EnumerateArray().ToList();
        Assert.Equal(["i1", "fresh", "ghost", "i2"], scores.Select(s => s.GetProperty("item_id").GetString()!).ToArray());
        Assert.Equal(["scored", "content_only", "unknown_item", "scored"], scores.Select(s => s.GetProperty("status").GetString()!).ToArray());
        Assert.Equal(JsonValueKind.Null, scores[2].GetProperty("ctr").ValueKind);
        foreach (var s in new[] { scores[0], scores[1], scores[3] }) Assert.InRange(s.GetProperty("ctr").GetSingle(), 0f, 1f);

        // The same request scored in-process by the served model gives the same CTRs.
        var scoring = api.Service<ScoringService>();
        using (var lease = api.Service<CtrModelHolder>().Acquire()!.Value)
        {
            var prepared = await scoring.PrepareAsync("u1", ["i1", "fresh", "ghost", "i2"], lease.Model.Options, CancellationToken.None);
            Assert.Equal(30, prepared.Features.History.Count);
            // The full forward pass (the training path); the API runs the split path (user state, then candidates), equal to float rounding.
            var expected = lease.Model.Scorer.Score(prepared.Features, prepared.Candidates);
            var served = new[] { scores[0].GetProperty("ctr").GetSingle(), scores[1].GetProperty("ctr").GetSingle(), scores[3].GetProperty("ctr").GetSingle() };
            Assert.Equal(expected, served, (a, b) => MathF.Abs(a - b) <= 1e-5f);
        }

        // An unknown user takes the cold-start path and still gets CTRs.
        var cold = await PostJson(api, """{"user_id": "newcomer", "candidates": ["i1", "i2"]}""");
        Assert.Equal("cold_start", cold.GetProperty("user_status").GetString());
        Assert.Equal(0, cold.GetProperty("history_length").GetInt32());
        Assert.All(cold.GetProperty("scores").EnumerateArray(), s => Assert.Equal("scored", s.GetProperty("status").GetString()));

        // Bad requests: one problem+json each.
        await Problem(api, "{\"user_id\": \"u1\", \"candidates\": [", HttpStatusCode.BadRequest, "Malformed JSON");
        await Problem(api, "{\"user_id\": 5, \"candidates\": [\"i1\"]}", HttpStatusCode.BadRequest, "Malformed JSON");
        await Problem(api, "{\"candidates\": [\"i1\"]}", HttpStatusCode.BadRequest, "Missing user_id");
        await Problem(api, "{\"user_id\": \"u1\", \"candidates\": []}", HttpStatusCode.BadRequest, "No candidates");
        await Problem(api, "{\"user_id\": \"u1\", \"candidates\": [\"i1\", \"\"]}", HttpStatusCode.BadRequest, "Missing candidates[1]");
        var tooMany = JsonSerializer.Serialize(new { user_id = "u1", candidates = Enumerable.Range(0, 1_001).Select(i => $"c{i}").ToArray() });
        await Problem(api, tooMany, HttpStatusCode.BadRequest, "Too many candidates");
        var huge = JsonSerializer.Serialize(new { user_id = "u1", candidates = Enumerable.Range(0, 900).Select(i => new string('x', 100) + i).ToArray() });
        // Expect: 100-continue, as a well-behaved client sends a large body: the 413 comes before the body is sent.
        using (var large = new HttpRequestMessage(HttpMethod.Post, "/v1/score") { Content = ApiHarness.Json(huge) })
        {
            large.Headers.ExpectContinue = true;
            var problem = await FeatureEndpointTests.AssertProblem(await api.Http.SendAsync(large), HttpStatusCode.RequestEntityTooLarge);
            Assert.Equal("Request too large", problem.GetProperty("title").GetString());
        }
        using (var text = new StringContent(request, System.Text.Encoding.UTF8, "text/plain"))
            await FeatureEndpointTests.AssertProblem(await api.Http.PostAsync("/v1/score", text), HttpStatusCode.UnsupportedMediaType);
        await FeatureEndpointTests.AssertProblem(await api.Http.GetAsync("/v1/score"), HttpStatusCode.MethodNotAllowed);

        // A new SequenceUpdate makes the next score read the user's new history (the cache would otherwise serve 30).
        await api.AddClicksAsync("u1", ["i3"], firstSeq: 30, firstTsMs: 2_000_000);
        Assert.Equal(30, (await PostJson(api, request)).GetProperty("history_length").GetInt32());
        api.Publish(Topics.SequenceGaps, "u1", new SequenceUpdate { UserId = "u1", SequenceVersion = 31, Variant = "TD", TsMs = 2_000_000 });
        await TestPlatform.WaitUntilAsync(async () => (await PostJson(api, request)).GetProperty("history_length").GetInt32() == 31,
            TimeSpan.FromSeconds(30), "the score to see the click announced by the SequenceUpdate");

        // Models: the registry's versions with metrics, and which one this replica serves.
        var models = await FeatureEndpointTests.GetJson(api, "/v1/models");
        Assert.Equal("ctr-v1", models.GetProperty("serving").GetProperty("version").GetString());
        var v1 = models.GetProperty("versions")[0];
        Assert.Equal("active", v1.GetProperty("status").GetString());
        Assert.True(v1.GetProperty("serving").GetBoolean());
        Assert.Equal(0.61, v1.GetProperty("metrics").GetProperty("auc").GetDouble(), 6);

        var openapi = await FeatureEndpointTests.GetJson(api, "/openapi/v1.json");
        var paths = openapi.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/v1/score", paths);
        Assert.Contains("/v1/models", paths);
    }

    public static async Task<JsonElement> PostJson(ApiHarness api, string body)
    {
        using var response = await api.Http.PostAsync("/v1/score", ApiHarness.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST /v1/score: {(int)response.StatusCode} {text}");
        // The server's own time, so a ranker can tell it from the network's.
        Assert.Matches(@"^score;dur=\d+\.\d\d$", Assert.Single(response.Headers.GetValues("Server-Timing")));
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task Problem(ApiHarness api, string body, HttpStatusCode status, string title)
    {
        var problem = await FeatureEndpointTests.AssertProblem(await api.Http.PostAsync("/v1/score", ApiHarness.Json(body)), status);
        Assert.Equal(title, problem.GetProperty("title").GetString());
    }
}
