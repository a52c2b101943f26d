using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ReaSeq.Api;

/// <summary>
/// Runs the API's own Kestrel web application inside the platform's generic host, so `reaseq run --roles api,...`
/// composes like every other role: the host starts and stops it, and the app shares the role's singletons (feature
/// cache, model holder) with the role's background jobs. It listens on Api:Url only; the management endpoints
/// (/metrics, /healthz, /readyz) live on their own port.
/// </summary>
public sealed class ApiServer(IServiceProvider platform, ApiOptions options, ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<ApiServer>();
    private WebApplication? _app;

    /// <summary>The bound address once started (with the real port when Api:Url asked for port 0).</summary>
    public Uri? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(ApiServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        // Configuration and logging belong to the platform host: the app reads neither ASPNETCORE_* nor its own files.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
        });
        builder.WebHost.UseUrls(options.Url);
        ApiApp.ConfigureServices(builder.Services, platform, options);
        var app = builder.Build();
        ApiApp.Configure(app);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"api: cannot listen on {options.Url}: {e.Message} (set Api:Url, e.g. REASEQ__Api__Url=http://127.0.0.1:8081)", e);
        }
        _app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? options.Url;
        Address = new Uri(address);
        _logger.LogInformation("api: listening on {Address} (API keys {Keys})", Address, options.KeysRequired ? "required" : "off: loopback only");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null) await _app.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}
