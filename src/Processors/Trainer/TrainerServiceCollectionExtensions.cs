using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Ingestors.Streaming.Operations;

namespace ReaSeq.Processors.Trainer;

public static class TrainerServiceCollectionExtensions
{
    /// <summary>The trainer role: point-in-time CTR examples, streaming BCE with prequential metrics, the model registry.</summary>
    public static IServiceCollection AddTrainerRole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<TrainerOptions>(configuration, TrainerOptions.Section);
        services.AddSingleton<TrainerMetrics>();
        services.AddSingleton<CtrRegistry>();
        services.AddSingleton<PostgresFeatureSource>();
        services.AddSingleton<CtrTrainerProcessor>();
        services.AddSingleton<AugmentedSequenceRecorder>();
        services.AddSingleton<IReadinessContributor, TrainerModelReadiness>();
        services.AddHostedService<TrainerWorker>();
        services.AddHostedService<ConsumerWorker<AugmentedSequenceRecorder>>();
        return services;
    }
}
