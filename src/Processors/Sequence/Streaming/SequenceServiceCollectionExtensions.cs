using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Processors.Sequence.Streaming;

public static class SequenceServiceCollectionExtensions
{
    /// <summary>The sequence role: incremental TD / CD / RANK gap detection and labeled positions per user.</summary>
    public static IServiceCollection AddSequenceRole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<SequenceDetectorOptions>(configuration, SequenceDetectorOptions.Section);
        services.AddValidatedOptions<SwingModelOptions>(configuration, SwingModelOptions.Section);
        services.AddValidatedOptions<SequenceProcessorOptions>(configuration, SequenceProcessorOptions.Section);
        services.AddSingleton<ISequenceCheckpointStore, PostgresSequenceCheckpointStore>();
        services.AddSingleton<ItemCategoryResolver>();
        services.AddSingleton<SequenceProcessor>();
        services.AddHostedService<ConsumerWorker<SequenceProcessor>>();
        return services;
    }
}
