using System.Net;
using ReaSeq.Api;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Api;

/// <summary>API keys and the per-key rate limit.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class ProtectionTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Keys_are_enforced_when_required_and_each_key_has_its_own_rate_limit()
    {
        await using var api = await ApiHarness.StartAsync(postgres, new Dictionary<string, string?>
        {
            ["Api:RequireApiKeys"] = "true",
            ["Api:ApiKeys:0"] = ApiHarness.Key,
            ["Api:ApiKeys:1"] = ApiHarness.OtherKey,
            ["Api:RateLimitPerSecond"] = "5",
        });
        await api.AddItemAsync("i0", "garden", 3, ApiHarness.Vector(0));

        var missing = await FeatureEndpointTests.AssertProblem(api, "/v1/items/i0/knowledge", HttpStatusCode.Unauthorized);
        Assert.Contains("X-Api-Key", missing.GetProperty("detail").GetString());
        await FeatureEndpointTests.AssertProblem(await Send(api, "/v1/items/i0/knowledge", "not-a-configured-key-000"), HttpStatusCode.Unauthorized);
        await FeatureEndpointTests.AssertProblem(await api.Http.PostAsync("/v1/score", ApiHarness.Json("{\"user_id\": \"u\", \"candidates\": [\"i0\"]}")), HttpStatusCode.Unauthorized);
        await FeatureEndpointTests.AssertProblem(await api.Http.GetAsync("/v1/models"), HttpStatusCode.Unauthorized);
        using (var bearer = new HttpRequestMessage(HttpMethod.Get, "/v1/items/i0/knowledge"))
        {
            bearer.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ApiHarness.OtherKey);
            using var ok = await api.Http.SendAsync(bearer);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        // The OpenAPI document is public.
        using (var doc = await api.Http.GetAsync("/openapi/v1.json")) Assert.Equal(HttpStatusCode.OK, doc.StatusCode);

        // A burst beyond the bucket gets 429 with Retry-After; the other key is not affected.
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 20; i++)
        {
            var r = await Send(api, "/v1/items/i0/knowledge", ApiHarness.Key);
            statuses.Add(r.StatusCode);
            if (r.StatusCode == HttpStatusCode.TooManyRequests && limited is null) limited = r;
            else r.Dispose();
        }
        Assert.Contains(HttpStatusCode.OK, statuses);
        Assert.NotNull(limited);
        Assert.True(limited!.Headers.RetryAfter is not null, "429 carries Retry-After");
        await FeatureEndpointTests.AssertProblem(limited, HttpStatusCode.TooManyRequests);
        using (var other = await Send(api, "/v1/items/i0/knowledge", ApiHarness.OtherKey)) Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public void Keys_can_be_off_only_on_loopback()
    {
        Assert.False(new ApiOptions { Url = "http://127.0.0.1:8080" }.KeysRequired);
        Assert.False(new ApiOptions { Url = "http://localhost:8080" }.KeysRequired);
        Assert.False(new ApiOptions { Url = "http://[::1]:8080" }.KeysRequired);
        Assert.True(new ApiOptions { Url = "http://0.0.0.0:8080", ApiKeys = [ApiHarness.Key] }.KeysRequired);
        var noKeys = Assert.Throws<ArgumentException>(() => new ApiOptions { Url = "http://0.0.0.0:8080" }.Validate());
        Assert.Contains("ApiKeys", noKeys.Message);
        var forcedOff = Assert.Throws<ArgumentException>(() => new ApiOptions { Url = "http://10.1.2.3:8080", RequireApiKeys = false }.Validate());
        Assert.Contains("loopback", forcedOff.Message);
        Assert.Throws<ArgumentException>(() => new ApiOptions { ApiKeys = ["short"] }.Validate());
        new ApiOptions { Url = "http://127.0.0.1:8080" }.Validate();
    }

    private static Task<HttpResponseMessage> Send(ApiHarness api, string path, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", key);
        return api.Http.SendAsync(request);
    }
}
