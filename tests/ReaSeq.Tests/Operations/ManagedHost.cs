using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ReaSeq.Contracts;
using ReaSeq.Host;
using ReaSeq.Host.Operations;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Tests.Operations;

/// <summary>
/// A role process as `reaseq run` builds it (Cli.BuildHost: embedded broker, real PostgreSQL, the roles, the management
/// endpoint on a free port), in-process, with an HTTP client on its management endpoint.
/// </summary>
public sealed class ManagedHost : IAsyncDisposable
{
    private ManagedHost(IHost host, Uri management)
    {
        Host = host;
        Management = management;
        Http = new HttpClient { BaseAddress = management, Timeout = TimeSpan.FromSeconds(10) };
        Producer = new ContractProducer(host.Services.GetRequiredService<IKafkaClientSupplier>(), "test-producer");
    }

    public IHost Host { get; }
    public Uri Management { get; }
    public HttpClient Http { get; }
    public ContractProducer Producer { get; }

    public static async Task<ManagedHost> StartAsync(string connectionString, IReadOnlyList<string> roles, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Postgres:ConnectionString"] = connectionString,
            ["Management:Port"] = "0",
            ["Kafka:StatisticsIntervalMs"] = "300",
            ["Kafka:EmbeddedBrokers"] = "1",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) values[k] = v;
        var host = ReaSeq.Host.Cli.BuildHost(roles, c => c.AddInMemoryCollection(values), new ConsoleSettings(LogLevel.Warning, LogFormat.Text));
        await host.StartAsync();
        var address = host.Services.GetRequiredService<ManagementServer>().Address
                      ?? throw new InvalidOperationException("management endpoint did not start");
        return new ManagedHost(host, address);
    }

    public async Task<(int Status, string Body)> GetAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Polls a path until its status is <paramref name="status"/>; returns the last body.</summary>
    public async Task<string> WaitForStatusAsync(string path, int status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = (Status: 0, Body: "");
        while (DateTime.UtcNow < deadline)
        {
            try { last = await GetAsync(path); } catch (HttpRequestException e) { last = (0, e.Message); }
            if (last.Status == status) return last.Body;
            await Task.Delay(200);
        }
        throw new TimeoutException($"{path} did not answer {status} within {timeout}; last answer {last.Status}: {last.Body}");
    }

    /// <summary>A few users' clicks (and their items) as a tiny replay.</summary>
    public void PublishClicks(int users, int clicksPerUser)
    {
        var ts = 1_700_000_000_000L;
        for (var i = 0; i < users * 3; i++)
        {
            Producer.Produce(Topics.ItemUpdates, $"i{i}", new ItemUpdate
            {
                ItemId = $"i{i}",
                Op = ItemOp.UPSERT,
                TsMs = ts,
                Title = $"item {i}",
                CategoryPath = [$"c{i % 4}"],
            });
        }
        for (var c = 0; c < clicksPerUser; c++)
        {
            for (var u = 0; u < users; u++)
            {
                Producer.Produce(Topics.Clicks, $"u{u}", new ClickEvent
                {
                    EventId = $"e{u}-{c}",
                    UserId = $"u{u}",
                    ItemId = $"i{(u + c) % (users * 3)}",
                    TsMs = ts + (c * 60_000L) + u,
                    Action = ClickAction.CLICK,
                    Context = new() { ["category"] = $"c{c % 4}" },
                });
            }
        }
        Producer.Flush();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Producer.Dispose(TimeSpan.FromSeconds(2));
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            try { await Host.StopAsync(timeout.Token); } catch (OperationCanceledException) { }
        }
        Host.Dispose();
    }
}
