using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Streaming.Operations;

namespace ReaSeq.Ingestors.Streaming;

public static class StreamingServiceCollectionExtensions
{
    /// <summary>Section of the record limits every role checks input against (one validator for all roles).</summary>
    public const string ContractLimitsSection = "Ingest:Limits";

    /// <summary>
    /// The runtime every role shares: validated options, Kafka (real or embedded), serdes, the contract validator,
    /// PostgreSQL with migrations applied at start, the dead-letter publisher, the role health the consumer loops report to.
    /// </summary>
    public static IServiceCollection AddStreamingRuntime(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<KafkaOptions>(configuration, KafkaOptions.Section);
        services.AddValidatedOptions<PostgresOptions>(configuration, PostgresOptions.Section);
        services.AddValidatedOptions<ContractLimits>(configuration, ContractLimitsSection);

        services.AddSingleton<KafkaClientSupplier>();
        services.AddSingleton<IKafkaClientSupplier>(sp => sp.GetRequiredService<KafkaClientSupplier>());
        // The registry is optional: without one, AvroSerde<T> writes single-object encoding (its constructor's default).
        var registryUrl = configuration[$"{KafkaOptions.Section}:{nameof(KafkaOptions.SchemaRegistryUrl)}"];
        if (!string.IsNullOrWhiteSpace(registryUrl))
            services.AddSingleton<ISchemaRegistry>(_ => new ConfluentSchemaRegistry(registryUrl, TimeSpan.FromSeconds(10)));
        services.AddSingleton(typeof(AvroSerde<>));
        services.AddSingleton(sp => new ContractValidator(sp.GetRequiredService<ContractLimits>()));
        services.AddSingleton<DeadLetterPublisher>();
        services.AddSingleton<RoleHealth>();
        services.AddSingleton<IRoleHealth>(sp => sp.GetRequiredService<RoleHealth>());
        // Readiness (/readyz): the consumer jobs, the state store and the cluster; roles add their own conditions.
        services.AddSingleton<IReadinessContributor>(sp => sp.GetRequiredService<RoleHealth>());
        services.AddSingleton<IReadinessContributor, PostgresReadiness>();
        services.AddSingleton<IReadinessContributor, KafkaReadiness>();

        services.AddSingleton(sp => new NpgsqlDataSourceBuilder(sp.GetRequiredService<PostgresOptions>().ConnectionString).Build());
        // Registered first so the schema exists before any consumer starts.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, MigrationService>());
        return services;
    }

    /// <summary>
    /// The one options pattern of the platform: bound from <paramref name="section"/>, validated with data annotations
    /// at start (a bad value stops the process before any consumer runs), and injectable as the plain options object.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
    {
        var builder = services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<TOptions>>().Value);
        return builder;
    }

    private sealed class MigrationService(NpgsqlDataSource db, ILogger<MigrationService> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Migrator.ApplyAsync(db, logger, cancellationToken);
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
