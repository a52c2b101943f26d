using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReaSeq.Api;
using ReaSeq.Contracts;
using ReaSeq.Host.Operations;
using ReaSeq.Ingestors.Ingest;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Dllm;
using ReaSeq.Processors.Knowledge.Streaming;
using ReaSeq.Processors.Sequence.Streaming;
using ReaSeq.Processors.Trainer;

namespace ReaSeq.Host;

/// <summary>The `reaseq` command line: one executable, many roles and tools.</summary>
public static class Cli
{
    public const string ConfigurationHelp =
        "Configuration: appsettings.json beside the executable, overridden by environment variables REASEQ__Section__Key (e.g. REASEQ__Kafka__BootstrapServers).";

    public static readonly IReadOnlyList<string> Roles = ["ingest", "sequence", "knowledge", "dllm", "trainer", "api"];

    public static Task<int> RunAsync(string[] args) => CliApp.RunAsync(BuildRootCommand(), args);

    public static RootCommand BuildRootCommand()
    {
        var root = new RootCommand($"ReaSeq: a real-time feature platform for recommender systems (Kafka in, PostgreSQL state, knowledge and sequence features out). {ConfigurationHelp}");
        root.Add(RunCommand.Create());
        root.Add(BrokerCommand());
        root.Add(ReplayCommand.Create());
        root.Add(KnowledgeCommand.Create());
        root.Add(SequenceCommand.Create());
        root.Add(ModelsCommand.Create());
        root.Add(StatusCommand.Create());
        return root;
    }

    private static Command BrokerCommand()
    {
        var brokers = CliParsers.Int("--brokers", "Mock brokers of the embedded cluster", 3, 1, 64);
        var partitions = CliParsers.Int("--partitions", "Partitions of every ReaSeq topic", 6, 1, 1_000);
        var command = new Command("broker", "Run the embedded Kafka broker on its own and print its bootstrap address on stdout (memory only; Ctrl-C to stop)")
        {
            brokers, partitions,
        };
        command.SetAction((r, ct) => BrokerAsync(r.GetValue(brokers), r.GetValue(partitions), ct));
        return command;
    }

    /// <summary>Configuration as every command sees it: appsettings.json, then REASEQ__ environment variables.</summary>
    public static IConfigurationManager Configure(HostApplicationBuilder builder)
    {
        builder.Configuration.Sources.Clear();
        builder.Configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables("REASEQ__");
        return builder.Configuration;
    }

    /// <summary>A host builder with the platform's configuration and console logging, and no console lifetime of its own.</summary>
    public static HostApplicationBuilder CreateBuilder(ConsoleSettings? console = null, bool progressOnTerminal = false)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = false });
        Configure(builder);
        ConsoleLogging.Apply(builder, console ?? ConsoleSettings.Default, progressOnTerminal);
        // The command owns Ctrl-C/SIGTERM (CliApp); the host only starts and stops services when told to.
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        builder.Services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = ShutdownTimeout;
            o.ServicesStopConcurrently = true;
        });
        return builder;
    }

    /// <summary>How long the host waits for its services to stop (below the process's stop deadline).</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(6);

    private static async Task<int> BrokerAsync(int brokers, int partitions, CancellationToken ct)
    {
        using var broker = new EmbeddedKafkaBroker(brokers);
        foreach (var topic in Topics.All) broker.CreateTopic(topic, partitions);
        Console.WriteLine(broker.BootstrapServers);
        Console.Error.WriteLine(
            $"Embedded Kafka broker: {brokers} brokers at {broker.BootstrapServers}, {Topics.All.Count} topics × {partitions} partitions. " +
            "Data lives in memory only and is gone when this process ends. Ctrl-C to stop.");
        try { await Task.Delay(Timeout.Infinite, ct); } catch (OperationCanceledException) { }
        return 0;
    }

    /// <summary>Builds the platform host with the given roles.</summary>
    public static IHost BuildHost(IEnumerable<string> roles, Action<IConfigurationManager>? overrides = null, ConsoleSettings? console = null,
                                  bool progressOnTerminal = false)
    {
        var builder = CreateBuilder(console, progressOnTerminal);
        overrides?.Invoke(builder.Configuration);
        builder.Services.AddStreamingRuntime(builder.Configuration);
        builder.Services.AddIngestStores();
        builder.Services.AddValidatedOptions<ManagementOptions>(builder.Configuration, ManagementOptions.Section);
        builder.Services.AddSingleton<ManagementServer>();
        // First of all services: liveness answers (and readiness says "starting") while migrations and state load.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp => sp.GetRequiredService<ManagementServer>()));
        foreach (var role in roles)
        {
            switch (role)
            {
                case "ingest": builder.Services.AddIngestRole(builder.Configuration); break;
                case "sequence": builder.Services.AddSequenceRole(builder.Configuration); break;
                case "knowledge": builder.Services.AddKnowledgeRole(builder.Configuration); break;
                case "trainer": builder.Services.AddTrainerRole(builder.Configuration); break;
                case "api": builder.Services.AddApiRole(builder.Configuration); break;
                case "dllm": builder.Services.AddDllmRole(builder.Configuration); break;
                default: throw new UserException($"unknown role '{role}'; known roles: {string.Join(", ", Roles)}");
            }
        }
        return builder.Build();
    }

    /// <summary>Neither waits for nor reacts to console signals: <see cref="CliApp"/> turns them into cancellation.</summary>
    private sealed class CommandLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
