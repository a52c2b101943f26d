using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using ReaSeq.Api.Scoring;
using ReaSeq.Contracts;
using ReaSeq.Models.Ctr;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Api;

/// <summary>Hot swap under load: no request fails and none mixes two model versions while a new version is swapped in.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class HotSwapTests(PostgresFixture postgres)
{
    private const float Tolerance = 1e-5f;

    [Fact]
    public async Task Swapping_a_model_announced_on_the_topic_under_load_fails_no_request_and_mixes_no_versions()
    {
        // Only the announcement on reaseq.ctr-models can trigger the swap: the registry poll is an hour away.
        await using var api = await ApiHarness.StartAsync(postgres, new Dictionary<string, string?>
        {
            ["Api:ModelPollMs"] = "3600000",
            ["Api:RateLimitPerSecond"] = "100000",
        });
        var candidates = Enumerable.Range(0, 40).Select(i => $"i{i}").ToArray();
        for (var i = 0; i < candidates.Length; i++) await api.AddItemAsync(candidates[i], i % 3 == 0 ? "garden" : "kitchen", i, ApiHarness.Vector(i % 7, TinyCtrModels.Dimension), [i % 4, i % 6]);
        await api.AddClicksAsync("u1", [.. Enumerable.Range(0, 200).Select(i => candidates[(i * 7) % candidates.Length])]);
        var checkpoints = new Dictionary<string, byte[]> { ["ctr-v1"] = TinyCtrModels.Checkpoint(1), ["ctr-v2"] = TinyCtrModels.Checkpoint(2) };
        var holder = api.Service<CtrModelHolder>();
        var watcher = api.Service<ModelWatcher>();

        await TinyCtrModels.RegisterAsync(api.Platform.Db, "ctr-v1", 1, checkpoints["ctr-v1"]);
        await watcher.ServeActiveAsync(null, CancellationToken.None); // what the start-up registry read does
        Assert.Equal("ctr-v1", holder.Current?.Version);

        // Each version's CTRs for the request, scored in-process from its checkpoint: a response must equal one of them exactly.
        var scoring = api.Service<ScoringService>();
        var prepared = await scoring.PrepareAsync("u1", candidates, TinyCtrModels.Options(), CancellationToken.None);
        var expected = new Dictionary<string, float[]>();
        foreach (var (version, bytes) in checkpoints)
        {
            using var scorer = CtrModelCheckpoint.Load(bytes, version);
            expected[version] = scorer.Score(prepared.Features, prepared.Candidates);
        }
        // The versions must disagree for a mixed response to show (tolerance: libtorch's threaded kernels may differ in the last bits).
        Assert.True(expected["ctr-v1"].Zip(expected["ctr-v2"]).Count(p => MathF.Abs(p.First - p.Second) > 100 * Tolerance) >= candidates.Length / 2,
            "the two versions score too alike to tell apart");

        var body = JsonSerializer.Serialize(new { user_id = "u1", candidates });
        var failures = new ConcurrentQueue<string>();
        var seen = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        async Task Client()
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await api.Http.PostAsync("/v1/score", ApiHarness.Json(body));
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"{(int)response.StatusCode}: {text}");
                    continue;
                }
                var root = JsonDocument.Parse(text).RootElement;
                var version = root.GetProperty("model_version").GetString()!;
                var ctrs = root.GetProperty("scores").EnumerateArray().Select(s => s.GetProperty("ctr").GetSingle()).ToArray();
                if (!expected.TryGetValue(version, out var want) || want.Length != ctrs.Length || want.Zip(ctrs).Any(p => MathF.Abs(p.First - p.Second) > Tolerance)) failures.Enqueue($"{version}: CTRs of another version or mixed");
                seen.AddOrUpdate(version, 1, (_, n) => n + 1);
            }
        }
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(Client)).ToArray();
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(seen.GetValueOrDefault("ctr-v1") >= 20), TimeSpan.FromSeconds(60), "load on ctr-v1");

        // The trainer's order: announce, then commit the registry row (the watcher waits for the row).
        api.Publish(Topics.CtrModels, "ctr", new ModelVersion { ModelName = "ctr", Version = 2, CheckpointRef = "ctr-v2", TsMs = 1 });
        await TinyCtrModels.RegisterAsync(api.Platform.Db, "ctr-v2", 2, checkpoints["ctr-v2"]);
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(holder.Current?.Version == "ctr-v2"), TimeSpan.FromSeconds(60), "ctr-v2 swapped in");
        var atSwap = seen.GetValueOrDefault("ctr-v2");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(seen.GetValueOrDefault("ctr-v2") >= atSwap + 20), TimeSpan.FromSeconds(60), "load on ctr-v2");
        stop.Cancel();
        await Task.WhenAll(clients);

        Assert.True(failures.IsEmpty, $"{failures.Count} failed or mixed responses, e.g. {failures.FirstOrDefault()}");
        Assert.True(seen["ctr-v1"] >= 20 && seen["ctr-v2"] >= 20, $"responses per version: {string.Join(", ", seen)}");
    }
}
