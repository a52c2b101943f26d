using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Ingestors.Ingest;

public static class IngestServiceCollectionExtensions
{
    /// <summary>The ingest role: item updates, clicks and labeled impressions into PostgreSQL state.</summary>
    public static IServiceCollection AddIngestRole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<IngestOptions>(configuration, IngestOptions.Section);
        services.AddIngestStores();
        services.AddSingleton<ItemIngestor>();
        services.AddSingleton<ClickIngestor>();
        services.AddSingleton<ImpressionIngestor>();
        services.AddHostedService<ConsumerWorker<ItemIngestor>>();
        services.AddHostedService<ConsumerWorker<ClickIngestor>>();
        services.AddHostedService<ConsumerWorker<ImpressionIngestor>>();
        return services;
    }

    /// <summary>The PostgreSQL stores the ingest role writes and the tools read; safe to call more than once.</summary>
    public static IServiceCollection AddIngestStores(this IServiceCollection services)
    {
        services.AddSingleton<IngestStats>();
        services.AddSingleton<IClickSequenceStore, PostgresClickSequenceStore>();
        services.AddSingleton<ICatalogStore, PostgresCatalogStore>();
        services.AddSingleton<IImpressionStore, PostgresImpressionStore>();
        return services;
    }
}
