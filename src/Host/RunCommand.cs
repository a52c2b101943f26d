using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReaSeq.Ingestors.Ingest;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Host;

/// <summary>`reaseq run`: starts the chosen roles; optionally replays a data set through them and summarises.</summary>
public static class RunCommand
{
    public static async Task<int> ExecuteAsync(CliArgs args, CancellationToken ct)
    {
        var roles = (args.Get("roles") ?? "ingest").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        using var host = Cli.BuildHost(roles);
        await host.StartAsync(ct);
        var stats = host.Services.GetRequiredService<IngestStats>();
        var kafka = host.Services.GetRequiredService<IKafkaClientSupplier>();
        Console.Error.WriteLine($"reaseq: roles {string.Join(",", roles)} running against Kafka at {kafka.BootstrapServers}{(kafka.IsEmbedded ? " (embedded, memory only)" : "")}");
        var replay = ReplaySetup.Resolve(args);
        if (replay is not null && !args.Has("serve"))
        {
            var code = await ReplaySetup.RunWithProgressAsync(host.Services, replay, args, stats, ct);
            await host.StopAsync(CancellationToken.None);
            return code;
        }
        try { await Task.Delay(Timeout.Infinite, ct); } catch (OperationCanceledException) { }
        await host.StopAsync(CancellationToken.None);
        return 0;
    }
}
