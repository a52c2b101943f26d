using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Ingestors.Streaming.Operations;
using ReaSeq.Models.Dllm;
using ReaSeq.Processors.VectorStores;

namespace ReaSeq.Processors.Dllm;

public static class DllmServiceCollectionExtensions
{
    /// <summary>
    /// The dllm role (paper §3.2): a training-data job, a filling job and the deployment's trainer.
    /// Sections: Dllm, Dllm:Model (the tiny LLaDA, paper §4.2.1), Dllm:Trainer, Dllm:VectorStore.
    /// </summary>
    public static IServiceCollection AddDllmRole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<DllmOptions>(configuration, DllmOptions.Section);
        services.AddValidatedOptions<DllmTrainerOptions>(configuration, DllmTrainerOptions.Section);
        services.AddValidatedOptions<DllmVectorStoreOptions>(configuration, DllmVectorStoreOptions.Section);
        services.AddValidatedOptions<LladaTinyOptions>(configuration, "Dllm:Model");

        services.AddSingleton(sp => new DllmMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton(sp => new DllmStore(sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<DllmOptions>().DeploymentOr(sp.GetRequiredService<KafkaOptions>().GroupPrefix)));
        services.AddSingleton(sp => CreateItemVectors(sp, sp.GetRequiredService<DllmVectorStoreOptions>()));
        services.AddSingleton<DllmTrainer>();
        services.AddSingleton<DllmCollector>();
        services.AddSingleton<DllmFiller>();
        services.AddSingleton<DllmProgress>();
        services.AddSingleton<IReadinessContributor, DllmModelReadiness>();
        services.AddHostedService<ConsumerWorker<DllmCollector>>();
        services.AddHostedService<DllmFillWorker>();
        services.AddHostedService<DllmTrainerService>();
        return services;
    }

    /// <summary>
    /// The process's own vector store when another role (knowledge) registered one, else a Qdrant collection or an
    /// in-memory index kept in sync with item_knowledge.
    /// </summary>
    private static ItemVectors CreateItemVectors(IServiceProvider sp, DllmVectorStoreOptions options)
    {
        var db = sp.GetRequiredService<NpgsqlDataSource>();
        var loggers = sp.GetRequiredService<ILoggerFactory>();
        if (options.Backend.Trim().ToLowerInvariant() == DllmVectorStoreOptions.Qdrant)
        {
            return new ItemVectors(new QdrantVectorStore(new QdrantVectorStoreOptions
            {
                Url = options.Url!,
                ApiKey = options.ApiKey,
                CollectionName = options.CollectionName,
                Dimension = options.Dimension,
            }, loggers), db, ownsStore: false);
        }
        if (sp.GetService<IVectorStore>() is { } shared) return new ItemVectors(shared, db, ownsStore: false);
        var own = new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions { Dimension = options.Dimension }, loggers.CreateLogger<EmbeddedVectorIndex>());
        return new ItemVectors(own, db, ownsStore: true, options.SyncIntervalMs);
    }
}
