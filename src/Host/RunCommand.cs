using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReaSeq.Api;
using ReaSeq.Ingestors.Ingest;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Host;

/// <summary>The typed settings of `reaseq run`.</summary>
public sealed record RunSettings(IReadOnlyList<string> Roles, ReplaySettings Replay, bool Serve, ConsoleSettings Console);

/// <summary>`reaseq run`: starts the chosen roles; optionally replays a data set through them and summarises.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var roles = CliParsers.Roles();
        var replay = ReplayOptionSet.KindOption(ReplayKind.None, allowNone: true);
        var serve = new Option<bool>("--serve") { Description = "Keep serving after the replay instead of summarising and exiting" };
        var maxBacklog = CliParsers.Int("--max-backlog", "Pause publishing while the roles' backlog exceeds this many records", 50_000, 1);
        var replayOptions = new ReplayOptionSet();
        var command = new Command("run", "Run the platform's roles (consumer groups reaseq.<role>); with --replay, replay a data set through them, show progress and print a summary")
        {
            roles, replay, serve, maxBacklog,
        };
        replayOptions.AddTo(command);
        command.SetAction((r, ct) => ExecuteAsync(new RunSettings(
            r.GetValue(roles)!, replayOptions.Bind(r, r.GetValue(replay) ?? ReplayKind.None) with { MaxBacklog = r.GetValue(maxBacklog) }, r.GetValue(serve), CliApp.Console(r)), ct));
        return command;
    }

    public static async Task<int> ExecuteAsync(RunSettings settings, CancellationToken ct)
    {
        var replay = ReplaySources.Create(settings.Replay); // the user's mistakes surface before anything starts
        var roles = string.Join(",", settings.Roles);
        Console.Error.WriteLine($"reaseq: starting roles {roles}…");
        var host = Cli.BuildHost(settings.Roles, console: settings.Console, progressOnTerminal: true);
        // Start off the command's thread: resolving services may block in native calls (an unreachable cluster keeps
        // librdkafka's metadata request waiting), and a requested stop must not wait for that.
        var starting = Task.Run(() => host.StartAsync(ct), CancellationToken.None);
        try
        {
            await starting.WaitAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            if (starting.IsCompleted) await StopAsync(host);
            return 0; // the stop was requested while starting; whatever still blocks ends with the process
        }
        catch
        {
            try { await StopAsync(host); } catch (Exception) { /* the start's error is the one to report */ }
            throw;
        }

        try
        {
            var kafka = host.Services.GetRequiredService<IKafkaClientSupplier>();
            Console.Error.WriteLine($"reaseq: roles {roles} running against Kafka at {kafka.BootstrapServers}{(kafka.IsEmbedded ? " (embedded, memory only)" : "")}");
            if (host.Services.GetService<ApiServer>() is { Address: { } api })
                Console.Error.WriteLine($"reaseq: api listening on {api} (OpenAPI document at {new Uri(api, "openapi/v1.json")})");
            if (replay is not null)
            {
                var stats = host.Services.GetRequiredService<IngestStats>();
                var code = await ReplayProgress.RunAsync(host.Services, replay, settings.Replay, stats, ct);
                if (!settings.Serve || code != 0) return code;
                Console.Error.WriteLine("reaseq: replay done; serving until Ctrl-C or SIGTERM");
            }
            try { await Task.Delay(Timeout.Infinite, ct); } catch (OperationCanceledException) { }
            return 0;
        }
        finally
        {
            await StopAsync(host);
        }
    }

    /// <summary>Stops within the host's shutdown timeout, then disposes what stopped.</summary>
    private static async Task StopAsync(IHost host)
    {
        try
        {
            using var timeout = new CancellationTokenSource(Cli.ShutdownTimeout);
            await host.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"reaseq: services did not stop within {Cli.ShutdownTimeout.TotalSeconds:F0} s");
            return; // don't dispose what is still running: the process is ending anyway
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
        {
            return;
        }
        host.Dispose();
    }
}
