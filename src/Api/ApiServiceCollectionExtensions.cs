using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ReaSeq.Api.Features;
using ReaSeq.Api.Scoring;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Ingestors.Streaming.Operations;

namespace ReaSeq.Api;

public static class ApiServiceCollectionExtensions
{
    /// <summary>
    /// The api role (issue 11): the ranking and feature API on Kestrel (section Api), its feature cache kept fresh from
    /// the feature topics, and the jobs that store the latest sequences and fills and hot-swap the CTR model.
    /// </summary>
    public static IServiceCollection AddApiRole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<ApiOptions>(configuration, ApiOptions.Section);
        services.AddSingleton(sp => new ApiMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton<FeatureStore>();
        services.AddSingleton<FeatureCache>();
        services.AddSingleton<SimilarityIndex>();
        services.AddSingleton<FeatureMaterializer>();
        services.AddSingleton<FeatureTopicListener>();
        services.AddSingleton<ModelRegistry>();
        services.AddSingleton<CtrModelHolder>();
        services.AddSingleton<ModelWatcher>();
        services.AddSingleton<IReadinessContributor, ModelReadiness>();
        services.AddSingleton<UserStateCache>();
        services.AddSingleton<ScoringWorkers>();
        services.AddSingleton<ScoringService>();
        services.AddSingleton<ApiServer>();
        services.AddHostedService<ConsumerWorker<FeatureMaterializer>>();
        services.AddHostedService(sp => sp.GetRequiredService<FeatureTopicListener>());
        services.AddHostedService(sp => sp.GetRequiredService<ModelWatcher>());
        services.AddHostedService(sp => sp.GetRequiredService<ApiServer>());
        return services;
    }
}
