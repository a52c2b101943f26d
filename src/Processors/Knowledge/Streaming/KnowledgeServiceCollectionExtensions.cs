using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using ReaSeq.Contracts.Knowledge;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Encoders;
using ReaSeq.Processors.Knowledge.Taxonomy;
using ReaSeq.Processors.VectorStores;

namespace ReaSeq.Processors.Knowledge.Streaming;

public static class KnowledgeServiceCollectionExtensions
{
    /// <summary>
    /// The knowledge role (paper §2.1): item updates → multi-agent knowledge, vectors, semantic ids → ItemKnowledge.
    /// Sections: Knowledge, Knowledge:Agents, Knowledge:Reasoner, Knowledge:VectorStore, Knowledge:SemanticIds, Knowledge:Iui,
    /// Knowledge:Queries (search queries for the demand agent, consumed by a second consumer group, reaseq.knowledge-queries).
    /// </summary>
    public static IServiceCollection AddKnowledgeRole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<KnowledgeProcessorOptions>(configuration, KnowledgeProcessorOptions.Section);
        services.AddValidatedOptions<KnowledgeAgentOptions>(configuration, KnowledgeAgentOptions.Section);
        services.AddValidatedOptions<KnowledgeReasonerOptions>(configuration, KnowledgeReasonerOptions.Section);
        services.AddValidatedOptions<KnowledgeVectorStoreOptions>(configuration, KnowledgeVectorStoreOptions.Section);
        services.AddValidatedOptions<SemanticIdTrainingOptions>(configuration, SemanticIdTrainingOptions.Section);
        services.AddValidatedOptions<KnowledgeQueryOptions>(configuration, KnowledgeQueryOptions.Section);
        services.AddValidatedOptions<IuiRoleOptions>(configuration, IuiRoleOptions.Section);

        services.AddSingleton<MiniLmEncoder>(_ => new MiniLmEncoder());
        services.AddSingleton<ISentenceEncoder>(sp => sp.GetRequiredService<MiniLmEncoder>());
        services.AddSingleton(sp => new KnowledgeMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton<IKnowledgeAgentBackend>(sp => KnowledgeAgentBackendFactory.Create(
            sp.GetRequiredService<KnowledgeAgentOptions>(), sp.GetRequiredService<ISentenceEncoder>(),
            sp.GetRequiredService<KnowledgeMetrics>(), sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<ITaxonomyCache, PostgresTaxonomyCache>();
        services.AddSingleton<PostgresQueryStore>();
        services.AddSingleton(sp => new PostgresCategoryCorpus(sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<KnowledgeProcessorOptions>().MaxOverlayItems, sp.GetRequiredService<PostgresQueryStore>()));
        services.AddSingleton<ICategoryCorpusSource>(sp => sp.GetRequiredService<PostgresCategoryCorpus>());
        services.AddSingleton(sp => new KnowledgeReasoner(sp.GetRequiredService<IKnowledgeAgentBackend>(), sp.GetRequiredService<ISentenceEncoder>(),
            sp.GetRequiredService<ITaxonomyCache>(), sp.GetRequiredService<ICategoryCorpusSource>(),
            sp.GetRequiredService<KnowledgeReasonerOptions>(), sp.GetRequiredService<KnowledgeMetrics>(),
            sp.GetRequiredService<ILogger<KnowledgeReasoner>>()));
        services.AddSingleton<PostgresModelStore>();
        services.AddSingleton<IVectorStore>(sp =>
        {
            var options = sp.GetRequiredService<KnowledgeVectorStoreOptions>();
            var models = sp.GetRequiredService<PostgresModelStore>();
            int dimension = sp.GetRequiredService<ISentenceEncoder>().Dimension;
            var loggers = sp.GetRequiredService<ILoggerFactory>();
            // Opened on first use: the deployment's identity is read once the migrations have run.
            return new DeploymentVectorStore(dimension, async ct => CreateVectorStore(options.ForDeployment(await models.DeploymentIdAsync(ct)), dimension, loggers));
        });

        services.AddSingleton<PostgresKnowledgeStore>();
        services.AddSingleton<PostgresSemanticIdDedup>();
        services.AddSingleton<SemanticIdModelHolder>();
        services.AddSingleton<IuiAdapterHolder>();
        services.AddSingleton<KnowledgeOutputGate>();
        services.AddSingleton<KnowledgeProcessorStats>();
        services.AddSingleton<KnowledgeProcessor>();
        services.AddSingleton<SemanticIdTrainer>();
        services.AddHostedService<ConsumerWorker<KnowledgeProcessor>>();
        services.AddSingleton<QueryCorpusHandler>();
        services.AddHostedService<ConsumerWorker<QueryCorpusHandler>>();
        services.AddHostedService(sp => sp.GetRequiredService<SemanticIdTrainer>());
        return services;
    }

    /// <summary>The configured vector store: the embedded index (file under Path) or a Qdrant collection.</summary>
    public static IVectorStore CreateVectorStore(KnowledgeVectorStoreOptions options, int dimension, ILoggerFactory loggerFactory)
    {
        options.Validate();
        if (options.Backend.Trim().ToLowerInvariant() == KnowledgeVectorStoreOptions.Qdrant)
        {
            return new QdrantVectorStore(new QdrantVectorStoreOptions
            {
                Url = options.Url!,
                ApiKey = options.ApiKey,
                CollectionName = options.CollectionName,
                Dimension = dimension,
            }, loggerFactory);
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(options.Path));
        if (folder is not null) Directory.CreateDirectory(folder);
        return new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions
        {
            Dimension = dimension,
            Path = options.Path,
            FlushInterval = TimeSpan.FromSeconds(options.FlushIntervalSeconds),
        }, loggerFactory.CreateLogger<EmbeddedVectorIndex>());
    }
}
