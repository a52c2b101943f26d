using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Ingestors.Streaming.Operations;

namespace ReaSeq.Host.Operations;

/// <summary>
/// The operators' endpoint of every role process, on its own port (Management:Port), apart from any serving port:
/// <list type="bullet">
/// <item>/metrics: every meter whose name starts with "ReaSeq." in Prometheus' text format (OpenTelemetry exporter);</item>
/// <item>/healthz (liveness): the process answers, and no consumer job has been stalled longer than
/// Management:UnhealthyAfterStalledSeconds;</item>
/// <item>/readyz (readiness): the host has started and every <see cref="IReadinessContributor"/> is ready (consumer jobs
/// have loaded their assigned partitions and none is stalled, PostgreSQL and the broker answer, models are loaded).</item>
/// </list>
/// It starts before the roles (liveness answers while state loads) and a port already in use disables it with an error
/// in the log instead of stopping the roles.
/// </summary>
public sealed class ManagementServer(
    ManagementOptions options,
    IEnumerable<IReadinessContributor> contributors,
    RoleHealth health,
    IHostApplicationLifetime lifetime,
    ILogger<ManagementServer> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The address it listens on once started (with Management:Port 0, the port actually taken); null when off.</summary>
    public Uri? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Enabled) return;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        // Its own small host: none of the process's configuration (ASPNETCORE_URLS, ...) or console logging leaks in.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(options.Address), options.Port));
        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(m => m.AddMeter("ReaSeq.*").AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
        {
            // Traces follow records through Kafka headers (StreamingTracing); exported only where a collector is named.
            telemetry.WithTracing(t => t.AddSource("ReaSeq.*").AddOtlpExporter(o => o.Endpoint = new Uri(options.OtlpEndpoint)));
        }
        var app = builder.Build();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/healthz", Liveness);
        app.MapGet("/readyz", ReadinessAsync);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            logger.LogError("Management endpoint DISABLED: cannot listen on {Address}:{Port} ({Reason}); set Management:Port (REASEQ__Management__Port), 0 for any free port",
                options.Address, options.Port, e.Message);
            await app.DisposeAsync();
            return;
        }
        _app = app;
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        Address = bound is null ? null : new Uri(bound.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", "localhost", StringComparison.Ordinal));
        logger.LogInformation("Management endpoint at {Address}: /metrics, /healthz, /readyz", bound);
    }

    private IResult Liveness()
    {
        var limit = TimeSpan.FromSeconds(options.UnhealthyAfterStalledSeconds);
        var stuck = options.UnhealthyAfterStalledSeconds == 0 ? [] :
            health.Stalled.Where(s => DateTimeOffset.UtcNow - s.Since > limit).ToList();
        if (stuck.Count == 0) return Results.Text("ok\n");
        var text = new StringBuilder("unhealthy: consumer jobs stalled longer than ").Append(limit.TotalSeconds).Append(" s\n");
        foreach (var s in stuck) text.Append(s.Handler).Append(": since ").Append(s.Since.ToString("O")).Append(", ").Append(s.Attempts).Append(" attempts\n");
        return Results.Text(text.ToString(), statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private async Task<IResult> ReadinessAsync(CancellationToken requestAborted)
    {
        var checks = await CheckAllAsync(requestAborted);
        var ready = checks.All(c => c.Check.Ready);
        var text = new StringBuilder(ready ? "ready\n" : "not ready\n");
        foreach (var (name, check) in checks) text.Append(name).Append(": ").Append(check.Ready ? "ok" : "NOT READY").Append(" (").Append(check.Detail).Append(")\n");
        return Results.Text(text.ToString(), statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>Every readiness condition, checked concurrently, each within Management:ReadinessTimeoutMs.</summary>
    public async Task<IReadOnlyList<(string Name, ReadinessCheck Check)>> CheckAllAsync(CancellationToken cancellationToken)
    {
        var started = lifetime.ApplicationStarted.IsCancellationRequested
            ? ReadinessCheck.Ok()
            : ReadinessCheck.NotReady("starting (migrations, roles)");
        var results = await Task.WhenAll(contributors.Select(async c =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ReadinessTimeoutMs);
            try
            {
                return (c.Name, await c.CheckAsync(timeout.Token));
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                return (c.Name, ReadinessCheck.NotReady("no answer in time"));
            }
#pragma warning disable CA1031 // a failing check is a "not ready" answer, never a failed probe request
            catch (Exception e)
#pragma warning restore CA1031
            {
                return (c.Name, ReadinessCheck.NotReady($"{e.GetType().Name}: {e.Message}"));
            }
        }));
        return [("host", started), .. results];
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null) await _app.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        _app = null;
    }
}
