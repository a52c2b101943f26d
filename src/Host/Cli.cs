using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ReaSeq.Contracts;
using ReaSeq.Ingestors.Ingest;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Knowledge.Streaming;
using ReaSeq.Processors.Sequence.Streaming;

namespace ReaSeq.Host;

/// <summary>The `reaseq` command line: one executable, many roles and tools.</summary>
public static class Cli
{
    public const string Usage = """
        reaseq run [--roles ingest,sequence,knowledge] [--replay auto|online-retail|synthetic|none] [--path FILE] [--serve]
        reaseq broker [--brokers 3] [--partitions 6]
        reaseq replay online-retail|synthetic|csv [--path FILE] [--map user=COL,item=COL,...] [--speed 1000x]
        reaseq knowledge show ITEM [--neighbours 5]
        reaseq sequence stats [--replay online-retail|synthetic|csv ...] [--variant TD|CD|TDCD|TDCD_RANK]
        reaseq bench [NAME ...]
        reaseq eval representations [--path FILE | --sample] [--split-date YYYY-MM-DD] [--limit-users N] [--methods cooc,title,knowledge]
        Configuration: appsettings.json, environment REASEQ__Section__Key (e.g. REASEQ__Kafka__BootstrapServers).
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        var rest = new CliArgs(args.Skip(1));
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        try
        {
            return args[0] switch
            {
                "run" => await RunCommand.ExecuteAsync(rest, cts.Token),
                "broker" => await BrokerAsync(rest, cts.Token),
                "replay" => await ReplayCommand.ExecuteAsync(rest, cts.Token),
                "sequence" => await SequenceCommand.ExecuteAsync(rest, cts.Token),
                "knowledge" => await KnowledgeCommand.ExecuteAsync(rest, cts.Token),
                _ => Fail($"Unknown command '{args[0]}'.\n{Usage}"),
            };
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }
    }

    public static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
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

    private static async Task<int> BrokerAsync(CliArgs args, CancellationToken ct)
    {
        var brokers = args.GetInt("brokers", 3);
        var partitions = args.GetInt("partitions", 6);
        using var broker = new EmbeddedKafkaBroker(brokers);
        foreach (var topic in Topics.All) broker.CreateTopic(topic, partitions);
        Console.WriteLine(broker.BootstrapServers);
        Console.Error.WriteLine(
            $"Embedded Kafka broker: {brokers} brokers at {broker.BootstrapServers}, {Topics.All.Count} topics × {partitions} partitions. " +
            "Data lives in memory only and is gone when this process ends. Ctrl-C to stop.");
        try { await Task.Delay(Timeout.Infinite, ct); } catch (OperationCanceledException) { }
        return 0;
    }

    public static readonly IReadOnlyList<string> Roles = ["ingest", "sequence", "knowledge"];

    /// <summary>Builds the platform host with the given roles.</summary>
    public static IHost BuildHost(IEnumerable<string> roles, Action<IConfigurationManager>? overrides = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        Configure(builder);
        overrides?.Invoke(builder.Configuration);
        builder.Services.AddStreamingRuntime(builder.Configuration);
        builder.Services.AddIngestStores();
        foreach (var role in roles)
        {
            switch (role)
            {
                case "ingest": builder.Services.AddIngestRole(builder.Configuration); break;
                case "sequence": builder.Services.AddSequenceRole(builder.Configuration); break;
                case "knowledge": builder.Services.AddKnowledgeRole(builder.Configuration); break;
                default: throw new ArgumentException($"Unknown role '{role}' (known: {string.Join(", ", Roles)})");
            }
        }
        return builder.Build();
    }
}
