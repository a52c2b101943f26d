using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Ingest;
using ReaSeq.Ingestors.Kafka;
using ReaSeq.Processors.State;

namespace ReaSeq.Processors;

public static class PlatformServiceCollectionExtensions
{
    /// <summary>
    /// The platform's shared infrastructure: validated options, Kafka (real or embedded), serdes, PostgreSQL with
    /// migrations applied at start, the dead-letter publisher.
    /// </summary>
    public static IServiceCollection AddReaSeqPlatform(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KafkaOptions>().Bind(configuration.GetSection(KafkaOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PostgresOptions>().Bind(configuration.GetSection(PostgresOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<IngestOptions>().Bind(configuration.GetSection(IngestOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<KafkaOptions>>().Value);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<IngestOptions>>().Value);

        services.AddSingleton<KafkaClientSupplier>();
        services.AddSingleton<IKafkaClientSupplier>(sp => sp.GetRequiredService<KafkaClientSupplier>());
        // The registry is optional: without one, AvroSerde<T> writes single-object encoding (its constructor's default).
        var registryUrl = configuration[$"{KafkaOptions.Section}:{nameof(KafkaOptions.SchemaRegistryUrl)}"];
        if (!string.IsNullOrWhiteSpace(registryUrl))
            services.AddSingleton<ISchemaRegistry>(_ => new ConfluentSchemaRegistry(registryUrl, TimeSpan.FromSeconds(10)));
        services.AddSingleton(typeof(AvroSerde<>));
        services.AddSingleton(sp => new ContractValidator(sp.GetRequiredService<IngestOptions>().Limits));
        services.AddSingleton<DeadLetterPublisher>();
        services.AddSingleton<IngestStats>();

        services.AddSingleton(sp => new NpgsqlDataSourceBuilder(sp.GetRequiredService<IOptions<PostgresOptions>>().Value.ConnectionString).Build());
        services.AddSingleton<IClickSequenceStore, PostgresClickSequenceStore>();
        services.AddSingleton<ICatalogStore, PostgresCatalogStore>();
        services.AddSingleton<IImpressionStore, PostgresImpressionStore>();
        // Registered first so the schema exists before any consumer starts.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, MigrationService>());
        return services;
    }

    /// <summary>The ingest role: item updates, clicks and labeled impressions into PostgreSQL state.</summary>
    public static IServiceCollection AddIngestRole(this IServiceCollection services)
    {
        services.AddSingleton<ItemIngestor>();
        services.AddSingleton<ClickIngestor>();
        services.AddSingleton<ImpressionIngestor>();
        services.AddHostedService<ConsumerWorker<ItemIngestor>>();
        services.AddHostedService<ConsumerWorker<ClickIngestor>>();
        services.AddHostedService<ConsumerWorker<ImpressionIngestor>>();
        return services;
    }

    private sealed class MigrationService(NpgsqlDataSource db, ILogger<MigrationService> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Migrator.ApplyAsync(db, logger, cancellationToken);
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
