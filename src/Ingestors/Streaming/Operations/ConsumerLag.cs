using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;

namespace ReaSeq.Ingestors.Streaming.Operations;

/// <summary>
/// Consumer lag per partition (gauge reaseq_consumer_lag{group, topic, partition}), taken from librdkafka's statistics
/// (statistics.interval.ms): for every partition a consumer currently fetches, the high watermark minus the position the
/// group has reached. Each consumer's report replaces its previous one, so a partition moved to another member stops
/// being reported here; a consumer that closed stops reporting and its entries expire.
/// </summary>
public sealed class ConsumerLag
{
    private readonly ConcurrentDictionary<string, Report> _byClient = new(StringComparer.Ordinal);

    private sealed record Report(string Group, DateTimeOffset At, TimeSpan Interval, IReadOnlyList<PartitionLag> Partitions);

    public ConsumerLag(Meter meter) =>
        meter.CreateObservableGauge("reaseq_consumer_lag", () => Current().Select(p =>
                new Measurement<long>(p.Lag, new("group", p.Group), new("topic", p.Topic), new("partition", p.Partition))),
            "{record}", "Records a consumer group has not yet consumed, per partition this process owns");

    /// <summary>The partitions this process's consumers own now, with their lag.</summary>
    public IReadOnlyList<PartitionLag> Current()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var (client, report) in _byClient)
            if (now - report.At > report.Interval * 3 + TimeSpan.FromSeconds(1)) _byClient.TryRemove(client, out _);
        return _byClient.Values.SelectMany(r => r.Partitions).ToList();
    }

    /// <summary>Takes one statistics report of a consumer of <paramref name="group"/>; malformed reports are ignored.</summary>
    public void Update(string group, string statisticsJson, TimeSpan interval)
    {
        try
        {
            using var doc = JsonDocument.Parse(statisticsJson);
            var root = doc.RootElement;
            var client = root.GetProperty("name").GetString() ?? group;
            var partitions = new List<PartitionLag>();
            if (root.TryGetProperty("topics", out var topics))
            {
                foreach (var topic in topics.EnumerateObject())
                {
                    if (!topic.Value.TryGetProperty("partitions", out var parts)) continue;
                    foreach (var part in parts.EnumerateObject())
                    {
                        var p = part.Value;
                        var id = p.GetProperty("partition").GetInt32();
                        // -1 is librdkafka's internal "unassigned" partition; fetch_state "none" is one this member does not fetch.
                        if (id < 0 || p.GetProperty("fetch_state").GetString() is "none" or null) continue;
                        if (Lag(p) is { } lag) partitions.Add(new PartitionLag(group, topic.Name, id, lag));
                    }
                }
            }
            _byClient[client] = new Report(group, DateTimeOffset.UtcNow, interval, partitions);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // A statistics report of another shape (a newer librdkafka) must not disturb the consumer.
        }
    }

    /// <summary>
    /// High watermark minus the furthest of the committed and the application's position. The handler's own offsets in
    /// PostgreSQL are the truth; Kafka's committed offset trails them by at most the loop's commit interval.
    /// </summary>
    private static long? Lag(JsonElement p)
    {
        var high = p.GetProperty("hi_offset").GetInt64();
        if (high < 0) return null;
        var position = Math.Max(p.GetProperty("committed_offset").GetInt64(),
            p.TryGetProperty("app_offset", out var app) ? app.GetInt64() : -1);
        return position < 0 ? null : Math.Max(0, high - position);
    }
}
