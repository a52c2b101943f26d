using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Processors.Sequence.Streaming;

public static class SequenceServiceCollectionExtensions
{
    /// <summary>The sequence role: incremental TD / CD / RANK gap detection and labeled positions per user.</summary>
    public static IServiceCollection AddSequenceRole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SequenceDetectorOptions>().Bind(configuration.GetSection(SequenceDetectorOptions.SectionName))
            .Validate(o => { o.Validate(); return true; }).ValidateOnStart();
        services.AddOptions<SwingModelOptions>().Bind(configuration.GetSection(SwingModelOptions.SectionName))
            .Validate(o => { o.Validate(); return true; }).ValidateOnStart();
        services.AddOptions<SequenceProcessorOptions>().Bind(configuration.GetSection(SequenceProcessorOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<SequenceDetectorOptions>>().Value);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<SwingModelOptions>>().Value);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<SequenceProcessorOptions>>().Value);
        services.AddSingleton<ISequenceCheckpointStore, PostgresSequenceCheckpointStore>();
        services.AddSingleton<ItemCategoryResolver>();
        services.AddSingleton<SequenceProcessor>();
        services.AddHostedService<ConsumerWorker<SequenceProcessor>>();
        return services;
    }
}
