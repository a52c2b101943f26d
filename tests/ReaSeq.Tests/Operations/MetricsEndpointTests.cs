using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using ReaSeq.Contracts;
using ReaSeq.Host;
using ReaSeq.Host.Operations;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Tests.Infrastructure;
using Spectre.Console;

namespace ReaSeq.Tests.Operations;

/// <summary>After a small replay through the ingest and sequence roles, /metrics exposes the operators' series.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class MetricsEndpointTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Metrics_endpoint_exposes_the_runtime_series_after_a_small_replay()
    {
        await using var host = await ManagedHost.StartAsync(await postgres.CreateDatabaseAsync(), ["ingest", "sequence"]);
        await host.WaitForStatusAsync("/readyz", 200, TimeSpan.FromSeconds(30));
        host.PublishClicks(users: 20, clicksPerUser: 5);
        // One record no role can read: a dead letter with its error class.
        host.Producer.ProduceRaw(Topics.Clicks, "u0"u8.ToArray(), [0xde, 0xad]);
        host.Producer.Flush();

        string metrics = "";
        await TestPlatform.WaitUntilAsync(async () =>
        {
            metrics = (await host.GetAsync("/metrics")).Body;
            return Value(metrics, "reaseq_records_in_total", "group=\"reaseq.sequence\"", "topic=\"reaseq.clicks\"") >= 101
                   && Value(metrics, "reaseq_records_in_total", "group=\"reaseq.ingest-clicks\"", "topic=\"reaseq.clicks\"") >= 101
                   && Value(metrics, "reaseq_freshness_seconds_count", "stage=\"sequence_update\"") >= 1
                   && Value(metrics, "reaseq_consumer_lag", "group=\"reaseq.sequence\"", "topic=\"reaseq.clicks\"") is not null;
        }, TimeSpan.FromSeconds(60), "the replay's records in /metrics");

        // Records in and out per topic, batch latency, lag per partition, dead letters by class, model versions.
        Assert.True(Value(metrics, "reaseq_records_out_total", "topic=\"reaseq.sequence-gaps\"") > 0, "updates delivered");
        Assert.True(Value(metrics, "reaseq_records_out_total", "topic=\"reaseq.dlq\"") >= 2, "letters delivered (ingest and sequence)");
        Assert.True(Value(metrics, "reaseq_batch_duration_seconds_count", "group=\"reaseq.sequence\"") >= 1);
        Assert.Contains("reaseq_batch_duration_seconds_bucket{", metrics);
        for (var p = 0; p < 6; p++)
            Assert.NotNull(Value(metrics, "reaseq_consumer_lag", "group=\"reaseq.ingest-clicks\"", $"partition=\"{p}\""));
        Assert.True(Value(metrics, "reaseq_dead_letters_total", "processor=\"sequence\"", "error_class=") >= 1);
        Assert.True(Value(metrics, "reaseq_assigned_partitions", "handler=\"sequence\"") == 6);
        Assert.Contains("reaseq_freshness_seconds_bucket{", metrics);
        // The roles' own meters come through the same endpoint (every meter named ReaSeq.*).
        Assert.True(Value(metrics, "reaseq_sequence_events_total", "status=\"accepted\"") >= 100);
        Assert.True(Value(metrics, "reaseq_ingested_total", "topic=\"reaseq.clicks\"") >= 100);

        // `reaseq status` reads the same series, and the broker's view of the groups' lag.
        var kafka = new KafkaOptions { BootstrapServers = host.Host.Services.GetRequiredService<IKafkaClientSupplier>().BootstrapServers };
        using var http = new HttpClient();
        IReadOnlyList<GroupStatus> rows = [];
        await TestPlatform.WaitUntilAsync(async () =>
        {
            rows = await new StatusCollector(http, kafka).CollectAsync([host.Management], TimeSpan.FromMilliseconds(300), CancellationToken.None);
            return rows.Any(r => r.Group == "reaseq.sequence" && r.BrokerLag == 0 && r.Lag == 0);
        }, TimeSpan.FromSeconds(30), "status: the sequence group caught up, as its members and the broker see it");
        Assert.True(rows.Count >= 4, string.Join("\n", rows));
        var sequence = Assert.Single(rows, r => r.Group == "reaseq.sequence");
        Assert.Equal(("sequence", 1, 6), (sequence.Role, sequence.Instances, sequence.Partitions));
        Assert.True(sequence.RecordsIn >= 101 && sequence.DeadLetters >= 1 && !sequence.Stalled);
        Assert.Contains(rows, r => r.Group == "reaseq.ingest-clicks" && r.Role == "ingest");
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(text), Ansi = AnsiSupport.No });
        console.Profile.Width = 240;
        StatusCommand.Render(console, rows, 1, kafka.BootstrapServers);
        Assert.Contains("reaseq.ingest-impressions", text.ToString());
    }

    /// <summary>The sum of a series' samples whose labels contain every given fragment; null when there is none.</summary>
    public static double? Value(string exposition, string name, params string[] labels)
    {
        double? sum = null;
        foreach (Match m in Regex.Matches(exposition, $@"^{Regex.Escape(name)}\{{([^}}]*)\}} (\S+)", RegexOptions.Multiline))
        {
            if (!labels.All(l => m.Groups[1].Value.Contains(l, StringComparison.Ordinal))) continue;
            sum = (sum ?? 0) + double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        return sum;
    }
}
