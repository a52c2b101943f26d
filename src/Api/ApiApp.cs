using System.Diagnostics;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ReaSeq.Api.Dto;
using ReaSeq.Api.Endpoints;
using ReaSeq.Api.Features;
using ReaSeq.Api.Protection;
using ReaSeq.Api.Scoring;

namespace ReaSeq.Api;

/// <summary>The web application: services forwarded from the platform host, the protection pipeline and the routes.</summary>
public static class ApiApp
{
    public const string RateLimitPolicy = "per-key";

    /// <summary>Registers the role's singletons (owned by the platform host) and the web stack in the app's container.</summary>
    public static void ConfigureServices(IServiceCollection services, IServiceProvider platform, ApiOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(platform.GetRequiredService<FeatureStore>());
        services.AddSingleton(platform.GetRequiredService<FeatureCache>());
        services.AddSingleton(platform.GetRequiredService<SimilarityIndex>());
        services.AddSingleton(platform.GetRequiredService<ApiMetrics>());
        services.AddSingleton(platform.GetRequiredService<ScoringService>());
        services.AddSingleton(platform.GetRequiredService<ModelRegistry>());
        services.AddSingleton(platform.GetRequiredService<CtrModelHolder>());
        services.AddSingleton(new ApiKeyRing(options));
        services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DictionaryKeyPolicy = null;
        });
        services.AddProblemDetails();
        services.AddOpenApi("v1");
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // A token bucket per caller: bursts up to one second's worth, refilled every 100 ms.
            o.AddPolicy(RateLimitPolicy, context => RateLimitPartition.GetTokenBucketLimiter(
                context.Items[ApiKeyMiddleware.CallerItem] as string ?? "anonymous",
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.RateLimitPerSecond,
                    TokensPerPeriod = Math.Max(1, options.RateLimitPerSecond / 10),
                    ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
                    QueueLimit = options.RateLimitQueue,
                    AutoReplenishment = true,
                }));
            o.OnRejected = (context, ct) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry))
                    context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return new ValueTask(Problems.Write(context.HttpContext, StatusCodes.Status429TooManyRequests, "Rate limit exceeded",
                    $"At most {options.RateLimitPerSecond} requests per second per key."));
            };
        });
    }

    /// <summary>The pipeline: problem+json for every error, keys, rate limit, then the routes.</summary>
    public static void Configure(WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<ApiMetrics>();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A failure inside a handler: one problem with the status it implies, never a stack trace.
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            await next(context);
            var endpoint = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            var tags = new TagList { { "endpoint", endpoint }, { "status", context.Response.StatusCode } };
            metrics.Requests.Add(1, tags);
            metrics.Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("endpoint", endpoint));
        });
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseRateLimiter();
        app.MapOpenApi("/openapi/{documentName}.json");

        var v1 = app.MapGroup("/v1").RequireRateLimiting(RateLimitPolicy);
        v1.MapPost("/score", ScoreEndpoints.ScoreAsync)
            .WithName("Score").WithSummary("CTR per candidate for a user, from the current model version")
            .Accepts<ScoreRequest>("application/json").Produces<ScoreResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        v1.MapGet("/models", ScoreEndpoints.ModelsAsync)
            .WithName("GetModels").WithSummary("The served CTR model version and the registry's versions with their metrics")
            .Produces<ModelsView>();
        v1.MapGet("/users/{id}/sequence", FeatureEndpoints.SequenceAsync)
            .WithName("GetUserSequence").WithSummary("A user's observed window, gaps with reasons, and fills with nearest items")
            .Produces<SequenceView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status400BadRequest);
        v1.MapGet("/items/{id}/knowledge", FeatureEndpoints.KnowledgeAsync)
            .WithName("GetItemKnowledge").WithSummary("An item's knowledge dimensions with evidence, semantic id and versions")
            .Produces<KnowledgeView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status400BadRequest);
        v1.MapGet("/items/{id}/similar", FeatureEndpoints.SimilarAsync)
            .WithName("GetSimilarItems").WithSummary("The k items nearest by knowledge vector")
            .Produces<SimilarView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }
}
