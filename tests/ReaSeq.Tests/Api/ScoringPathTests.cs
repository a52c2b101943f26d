using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using ReaSeq.Api.Scoring;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Streaming.Operations;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Api;

/// <summary>
/// The score path's per-user model state cache (paper §2.2.1 "System Deployment": user-side work once per user), the
/// api role's readiness (a model loaded) and its freshness series (click → features seen by the API).
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class ScoringPathTests(PostgresFixture postgres)
{
    private const string Request = """{"user_id": "u1", "candidates": ["i1", "i2", "i3", "fresh"]}""";

    [Fact]
    public async Task Not_ready_without_a_model_then_the_user_state_is_cached_per_feature_version_and_model_version()
    {
        await using var api = await StartWithUserAsync();

        var readiness = api.Host.Services.GetServices<IReadinessContributor>().Single(c => c.Name == "model:ctr");
        var before = await readiness.CheckAsync(CancellationToken.None);
        Assert.False(before.Ready);
        Assert.Contains("no CTR model", before.Detail);

        await TinyCtrModels.RegisterAsync(api.Platform.Db, "ctr-v1", 1, TinyCtrModels.Checkpoint(1));
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(api.Service<CtrModelHolder>().Current?.Version == "ctr-v1"), TimeSpan.FromSeconds(30), "ctr-v1 served");
        var after = await readiness.CheckAsync(CancellationToken.None);
        Assert.True(after.Ready, after.Detail);
        Assert.Contains("ctr-v1", after.Detail);

        var states = api.Service<UserStateCache>();
        var first = await ScoreEndpointTests.PostJson(api, Request);
        var missesAfterFirst = states.Misses;
        var second = await ScoreEndpointTests.PostJson(api, Request);
        Assert.True(states.Hits >= 1, "the second request reuses the user's state");
        Assert.Equal(missesAfterFirst, states.Misses);
        Assert.Equal(first.GetProperty("scores").ToString(), second.GetProperty("scores").ToString());

        // A SequenceUpdate invalidates the user's features, and with them the state: the next score encodes the new history.
        await api.AddClicksAsync("u1", ["i5", "i6"], firstSeq: 20, firstTsMs: 5_000_000);
        api.Publish(Topics.SequenceGaps, "u1", new SequenceUpdate { UserId = "u1", SequenceVersion = 22, Variant = "TD", TsMs = 5_000_000 });
        await TestPlatform.WaitUntilAsync(async () => (await ScoreEndpointTests.PostJson(api, Request)).GetProperty("history_length").GetInt32() == 22,
            TimeSpan.FromSeconds(30), "the score to see the new clicks");
        Assert.True(states.Misses > missesAfterFirst, "the changed user was encoded again");

        // A new model version: the cached state of the old weights is not used.
        await TinyCtrModels.RegisterAsync(api.Platform.Db, "ctr-v2", 2, TinyCtrModels.Checkpoint(2));
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(api.Service<CtrModelHolder>().Current?.Version == "ctr-v2"), TimeSpan.FromSeconds(30), "ctr-v2 served");
        var missesBeforeSwapRequest = states.Misses;
        var swapped = await ScoreEndpointTests.PostJson(api, Request);
        Assert.Equal("ctr-v2", swapped.GetProperty("model_version").GetString());
        Assert.Equal(missesBeforeSwapRequest + 1, states.Misses);
        Assert.Equal(1, states.Count);

        // What the v2 response says equals v2's full forward pass for the same features.
        await AssertEqualsFullForwardAsync(api, ["i1", "i2", "i3", "fresh"],
            [.. swapped.GetProperty("scores").EnumerateArray().Select(s => s.GetProperty("ctr").GetSingle())]);
    }

    [Fact]
    public async Task Candidates_split_across_the_scoring_threads_score_as_the_full_forward_pass()
    {
        await using var api = await ApiHarness.StartAsync(postgres, new Dictionary<string, string?>
        {
            ["Api:ModelPollMs"] = "200",
            ["Api:ScoringThreads"] = "3",
        });
        const int Items = 130;
        for (var i = 0; i < Items; i++) await api.AddItemAsync($"i{i}", "garden", 3 + i % 50, ApiHarness.Vector(i, TinyCtrModels.Dimension), [i % 5, i % 7]);
        await api.AddItemAsync("fresh", "garden", 4);
        await api.AddClicksAsync("u1", [.. Enumerable.Range(0, 40).Select(i => $"i{i * 3 % Items}")]);
        await TinyCtrModels.RegisterAsync(api.Platform.Db, "ctr-v1", 1, TinyCtrModels.Checkpoint(1));
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(api.Service<CtrModelHolder>().Current?.Version == "ctr-v1"), TimeSpan.FromSeconds(30), "ctr-v1 served");

        // 131 scorable candidates on 3 threads: 2 parts of at least 50 (ScoringWorkers.Split).
        string[] ids = [.. Enumerable.Range(0, Items).Select(i => $"i{(i * 7) % Items}"), "fresh", "unknown-item"];
        Assert.Equal(2, ScoringWorkers.Split(Items + 1, 3).Count);
        var body = System.Text.Json.JsonSerializer.Serialize(new { user_id = "u1", candidates = ids });
        var response = await ScoreEndpointTests.PostJson(api, body);
        var served = response.GetProperty("scores").EnumerateArray().ToList();
        Assert.Equal(ids.Length, served.Count);
        Assert.Equal(ScoringService.UnknownItem, served[^1].GetProperty("status").GetString());

        var ctrs = served.Take(Items + 1).Select(s => s.GetProperty("ctr").GetSingle()).ToArray();
        await AssertEqualsFullForwardAsync(api, ids, ctrs);
        Assert.True(ctrs.Max() - ctrs.Min() > 1e-4f, "the candidates score differently, so order mistakes would show");
    }

    [Fact]
    public async Task A_swap_encodes_the_recently_active_users_on_the_new_model_before_their_next_request()
    {
        await using var api = await StartWithUserAsync();
        await TinyCtrModels.RegisterAsync(api.Platform.Db, "ctr-v1", 1, TinyCtrModels.Checkpoint(1));
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(api.Service<CtrModelHolder>().Current?.Version == "ctr-v1"), TimeSpan.FromSeconds(30), "ctr-v1 served");
        var states = api.Service<UserStateCache>();
        await ScoreEndpointTests.PostJson(api, Request);
        Assert.Equal("ctr-v1", states.MostRecent(1).Single().ModelVersion);

        await TinyCtrModels.RegisterAsync(api.Platform.Db, "ctr-v2", 2, TinyCtrModels.Checkpoint(2));
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(states.MostRecent(1).Single().ModelVersion == "ctr-v2"), TimeSpan.FromSeconds(30),
            "u1's state encoded on ctr-v2");
        Assert.Equal("ctr-v2", api.Service<CtrModelHolder>().Current?.Version);
        var misses = states.Misses;
        var swapped = await ScoreEndpointTests.PostJson(api, Request);
        Assert.Equal("ctr-v2", swapped.GetProperty("model_version").GetString());
        Assert.Equal(misses, states.Misses); // the first request after the swap ran the candidate step only

        // The prewarmed state scores as v2's full forward pass.
        await AssertEqualsFullForwardAsync(api, ["i1", "i2", "i3", "fresh"],
            [.. swapped.GetProperty("scores").EnumerateArray().Select(s => s.GetProperty("ctr").GetSingle())]);
    }

    [Theory]
    [InlineData(1, 2, new[] { 1 })]
    [InlineData(99, 2, new[] { 99 })]
    [InlineData(100, 2, new[] { 50, 50 })]
    [InlineData(201, 2, new[] { 101, 100 })]
    [InlineData(201, 8, new[] { 51, 50, 50, 50 })]
    [InlineData(1000, 1, new[] { 1000 })]
    public void Candidates_are_split_into_contiguous_parts_of_at_least_fifty_one_per_thread(int count, int threads, int[] lengths)
    {
        var parts = ScoringWorkers.Split(count, threads);
        Assert.Equal(lengths, parts.Select(p => p.Length).ToArray());
        Assert.Equal(0, parts[0].Start);
        for (var i = 1; i < parts.Count; i++) Assert.Equal(parts[i - 1].Start + parts[i - 1].Length, parts[i].Start);
    }

    [Fact]
    public async Task Freshness_click_to_features_seen_by_the_api_is_recorded()
    {
        var observed = new ConcurrentQueue<(double Seconds, string? Stage)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == StreamingMetrics.MeterName && instrument.Name == "reaseq_freshness_seconds") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "stage") observed.Enqueue((value, tag.Value as string));
            }
        });
        listener.Start();

        await using var api = await ApiHarness.StartAsync(postgres);
        // As the sequence role publishes an update: with the entry time of the click it derives from.
        var entered = DateTimeOffset.UtcNow.AddMilliseconds(-250);
        var serde = api.Host.Services.GetRequiredService<AvroSerde<SequenceUpdate>>();
        api.Platform.Producer.ProduceRaw(Topics.SequenceGaps, "u9"u8.ToArray(),
            serde.Serialize(new SequenceUpdate { UserId = "u9", SequenceVersion = 1, Variant = "TD", TsMs = 1 }), null,
            ReaSeq.Ingestors.Streaming.Operations.StreamingMetrics.EnteredAtHeaders(new Confluent.Kafka.Timestamp(entered)));
        api.Platform.Producer.Flush();

        await TestPlatform.WaitUntilAsync(() => Task.FromResult(observed.Any(o => o.Stage == "api_features")), TimeSpan.FromSeconds(30),
            "a freshness observation of stage api_features");
        var seconds = observed.First(o => o.Stage == "api_features").Seconds;
        Assert.InRange(seconds, 0.2, 30);
    }

    /// <summary>
    /// The served click probabilities equal the current model's full forward pass (the training path) on the same
    /// prepared features, to float rounding.
    /// </summary>
    private static async Task AssertEqualsFullForwardAsync(ApiHarness api, IReadOnlyList<string> candidates, float[] served)
    {
        var scoring = api.Service<ScoringService>();
        using var lease = api.Service<CtrModelHolder>().Acquire()!.Value;
        var prepared = await scoring.PrepareAsync("u1", candidates, lease.Model, CancellationToken.None);
        var expected = lease.Model.Scorer.Score(prepared.Features, prepared.Candidates);
        Assert.Equal(expected, served, (a, b) => MathF.Abs(a - b) <= 1e-5f);
    }

    /// <summary>An api role polling the registry every 200 ms, eight items and "fresh" (no vector), and u1 with 20 clicks.</summary>
    private async Task<ApiHarness> StartWithUserAsync()
    {
        var api = await ApiHarness.StartAsync(postgres, new Dictionary<string, string?>
        {
            ["Api:ModelPollMs"] = "200",
            ["Api:Cache:MaxAgeMs"] = "3600000",
        });
        try
        {
            for (var i = 0; i < 8; i++) await api.AddItemAsync($"i{i}", "garden", 3 + i, ApiHarness.Vector(i, TinyCtrModels.Dimension), [i % 3, i % 4]);
            await api.AddItemAsync("fresh", "garden", 4);
            await api.AddClicksAsync("u1", [.. Enumerable.Range(0, 20).Select(i => $"i{i % 8}")]);
            return api;
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }
    }
}
