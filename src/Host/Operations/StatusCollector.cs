using Confluent.Kafka;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Host.Operations;

/// <summary>
/// What `reaseq status` shows, gathered from the roles' /metrics endpoints (scraped twice, <c>interval</c> apart, for
/// throughput) and, when a cluster is named, the consumer groups' lag as the broker sees it (high watermark minus the
/// group's committed offset): the same numbers dashboards and autoscalers use.
/// </summary>
public sealed class StatusCollector(HttpClient http, KafkaOptions kafka)
{
    public async Task<IReadOnlyList<GroupStatus>> CollectAsync(IReadOnlyList<Uri> endpoints, TimeSpan interval, CancellationToken ct)
    {
        var first = await ScrapeAllAsync(endpoints, ct);
        var second = first;
        if (interval > TimeSpan.Zero)
        {
            await Task.Delay(interval, ct);
            second = await ScrapeAllAsync(endpoints, ct);
        }
        var prefix = kafka.GroupPrefix + ".";
        var all = second.SelectMany(s => s.Value).ToList();
        var groups = all.Where(s => s.Name is "reaseq_records_in_total" or "reaseq_consumer_lag").Select(s => s.Label("group"))
            .Concat(all.Where(s => s.Name == "reaseq_assigned_partitions").Select(s => prefix + s.Label("handler")))
            .Where(g => g.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var brokerLag = string.IsNullOrWhiteSpace(kafka.BootstrapServers) ? null
            : await Task.Run(() => BrokerLag(groups, all), ct);

        var rows = new List<GroupStatus>();
        foreach (var group in groups)
        {
            var handler = group.StartsWith(prefix, StringComparison.Ordinal) ? group[prefix.Length..] : group;
            var role = handler.Split('-')[0];
            double In(IEnumerable<KeyValuePair<Uri, List<MetricSample>>> scrape) => scrape.SelectMany(s => s.Value)
                .Where(s => s.Name == "reaseq_records_in_total" && s.Label("group") == group).Sum(s => s.Value);
            var inNow = In(second);
            double? rate = interval > TimeSpan.Zero ? Math.Max(0, inNow - In(first)) / interval.TotalSeconds : null;
            var lagSamples = all.Where(s => s.Name == "reaseq_consumer_lag" && s.Label("group") == group).ToList();
            var letters = all.Where(s => s.Name == "reaseq_dead_letters_total" && s.Label("processor") == handler).ToList();
            var members = second.Count(s => s.Value.Any(x => x.Name == "reaseq_assigned_partitions" && x.Label("handler") == handler));
            rows.Add(new GroupStatus(
                role, group, members,
                (int)all.Where(s => s.Name == "reaseq_assigned_partitions" && s.Label("handler") == handler).Sum(s => s.Value),
                lagSamples.Count == 0 ? null : (long)lagSamples.Sum(s => s.Value),
                brokerLag is not null && brokerLag.TryGetValue(group, out var bl) ? bl : null,
                rate, inNow, letters.Sum(s => s.Value),
                string.Join(", ", letters.GroupBy(s => s.Label("error_class")).Select(g => $"{g.Key} {g.Sum(s => s.Value):0}")),
                string.Join(", ", all.Where(s => s.Name == "reaseq_model_version" && s.Label("role") == role)
                    .Select(s => $"{s.Label("model")} v{s.Value:0}").Distinct()),
                all.Any(s => s.Name == "reaseq_role_unhealthy" && s.Label("handler") == handler && s.Value > 0)));
        }
        return rows;
    }

    private async Task<Dictionary<Uri, List<MetricSample>>> ScrapeAllAsync(IReadOnlyList<Uri> endpoints, CancellationToken ct)
    {
        var result = new Dictionary<Uri, List<MetricSample>>();
        foreach (var endpoint in endpoints)
        {
            var url = new Uri(endpoint, "/metrics");
            try
            {
                result[endpoint] = MetricSample.Parse(await http.GetStringAsync(url, ct));
            }
            catch (HttpRequestException e)
            {
                throw new UserException($"cannot read {url}: {e.Message}; is the role running with its management endpoint there (Management:Port)?");
            }
        }
        return result;
    }

    /// <summary>Per group: the sum over its topics' partitions of high watermark minus committed offset.</summary>
    private Dictionary<string, long> BrokerLag(IReadOnlyList<string> groups, IReadOnlyList<MetricSample> samples)
    {
        var config = new ClientConfig { BootstrapServers = kafka.BootstrapServers, ClientId = "reaseq-status" };
        kafka.ApplySecurity(config);
        foreach (var (key, value) in kafka.Client) config.Set(key, value);
        using var admin = new AdminClientBuilder(config).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        var lag = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var topics = samples.Where(s => s.Name is "reaseq_records_in_total" or "reaseq_consumer_lag" && s.Label("group") == group)
                .Select(s => s.Label("topic")).Where(t => t.Length > 0).ToHashSet(StringComparer.Ordinal);
            var partitions = metadata.Topics.Where(t => topics.Contains(t.Topic))
                .SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p.PartitionId))).ToList();
            if (partitions.Count == 0) continue;
            using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig(config) { GroupId = group, EnableAutoCommit = false }).Build();
            long total = 0;
            foreach (var committed in consumer.Committed(partitions, TimeSpan.FromSeconds(10)))
            {
                var high = consumer.QueryWatermarkOffsets(committed.TopicPartition, TimeSpan.FromSeconds(10)).High.Value;
                total += Math.Max(0, high - Math.Max(0, committed.Offset.Value));
            }
            lag[group] = total;
        }
        return lag;
    }
}
