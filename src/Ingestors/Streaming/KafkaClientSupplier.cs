using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ReaSeq.Ingestors.Streaming.Operations;
using ReaSeq.Contracts;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>
/// Connects to the configured cluster, or starts the embedded broker when none is configured, and makes sure
/// the platform's topics exist.
/// </summary>
public sealed class KafkaClientSupplier : IKafkaClientSupplier, IDisposable
{
    private readonly KafkaOptions _options;
    private readonly EmbeddedKafkaBroker? _embedded;

    public KafkaClientSupplier(IOptions<KafkaOptions> options, ILogger<KafkaClientSupplier> logger)
    {
        _options = options.Value;
        if (string.IsNullOrWhiteSpace(_options.BootstrapServers))
        {
            _embedded = new EmbeddedKafkaBroker(_options.EmbeddedBrokers);
            BootstrapServers = _embedded.BootstrapServers;
            logger.LogWarning(
                "Kafka: EMBEDDED broker ({Brokers} mock brokers at {Bootstrap}); it keeps all data in memory only and loses it when the process ends. Set Kafka:BootstrapServers for a real cluster.",
                _options.EmbeddedBrokers, BootstrapServers);
        }
        else
        {
            BootstrapServers = _options.BootstrapServers;
            logger.LogInformation("Kafka: cluster at {Bootstrap}", BootstrapServers);
        }
        EnsureTopics(Topics.All, _options.Partitions);
        logger.LogInformation("Kafka: topics ready ({Count}, {Partitions} partitions each when created by ReaSeq)", Topics.All.Count, _options.Partitions);
    }

    /// <summary>Uses an already running broker (tests share one embedded broker between many suppliers).</summary>
    public KafkaClientSupplier(KafkaOptions options, EmbeddedKafkaBroker broker)
    {
        _options = options;
        BootstrapServers = broker.BootstrapServers;
        IsEmbeddedShared = true;
        foreach (var topic in Topics.All) broker.CreateTopic(topic, options.Partitions);
    }

    private bool IsEmbeddedShared { get; }

    public string BootstrapServers { get; }

    public bool IsEmbedded => _embedded is not null || IsEmbeddedShared;

    public KafkaOptions Options => _options;

    public IProducer<byte[]?, byte[]?> CreateProducer(string clientId)
    {
        var config = new ProducerConfig(BaseConfig(clientId))
        {
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = _options.LingerMs,
            BatchNumMessages = 10_000,
            // Keys decide partitions: murmur2 matches the Java clients, so every producer agrees where a user lives.
            Partitioner = Partitioner.Murmur2Random,
        };
        return new ProducerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, error) => StreamingMetrics.BrokerError("producer", error.Code))
            .Build();
    }

    public IConsumer<byte[]?, byte[]?> CreateConsumer(string groupId, string clientId, Action<ConsumerBuilder<byte[]?, byte[]?>>? configure = null)
    {
        var config = new ConsumerConfig(BaseConfig(clientId))
        {
            GroupId = groupId,
            // Kafka's committed offsets are advisory (the handlers' stored offsets are the truth): the consumer loop
            // stores them and the client commits what was stored in the background, never blocking a poll on a
            // coordinator that does not answer. Nothing stored, nothing committed.
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 1_000,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            SessionTimeoutMs = 10_000,
            HeartbeatIntervalMs = 1_000,
            FetchMaxBytes = 16 * 1024 * 1024,
            MaxPartitionFetchBytes = 4 * 1024 * 1024,
            FetchWaitMaxMs = _options.FetchWaitMaxMs,
        };
        var builder = new ConsumerBuilder<byte[]?, byte[]?>(config);
        if (_options.StatisticsIntervalMs > 0)
        {
            // Consumer lag per partition for /metrics (and `reaseq status`), from the client's own statistics.
            config.StatisticsIntervalMs = _options.StatisticsIntervalMs;
            var interval = TimeSpan.FromMilliseconds(_options.StatisticsIntervalMs);
            builder.SetStatisticsHandler((_, json) => StreamingMetrics.Lag.Update(groupId, json, interval));
        }
        configure?.Invoke(builder);
        return builder.Build();
    }

    /// <summary>An admin client on the same cluster and security settings (readiness, `reaseq status`).</summary>
    public IAdminClient CreateAdminClient(string clientId) => new AdminClientBuilder(BaseConfig(clientId)).Build();

    public void EnsureTopics(IEnumerable<string> topics, int partitions)
    {
        if (_embedded is not null)
        {
            foreach (var topic in topics) _embedded.CreateTopic(topic, partitions);
            return;
        }
        if (IsEmbeddedShared) return;
        using var admin = new AdminClientBuilder(BaseConfig("reaseq-admin")).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(15));
        var missing = topics.Where(t => metadata.Topics.All(m => m.Topic != t || m.Error.IsError)).ToList();
        if (missing.Count == 0) return;
        try
        {
            admin.CreateTopicsAsync(missing.Select(t => new TopicSpecification
            {
                Name = t,
                NumPartitions = partitions,
                ReplicationFactor = _options.ReplicationFactor,
            })).GetAwaiter().GetResult();
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
            // Another instance created them first.
        }
    }

    private ClientConfig BaseConfig(string clientId)
    {
        var config = new ClientConfig { BootstrapServers = BootstrapServers, ClientId = clientId };
        _options.ApplySecurity(config);
        foreach (var (key, value) in _options.Client) config.Set(key, value);
        return config;
    }

    public void Dispose() => _embedded?.Dispose();
}
