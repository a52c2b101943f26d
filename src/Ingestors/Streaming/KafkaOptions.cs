using System.ComponentModel.DataAnnotations;
using Confluent.Kafka;
using ReaSeq.Contracts.Validation;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>Configuration section "Kafka" (env: REASEQ__Kafka__BootstrapServers, ...).</summary>
public sealed class KafkaOptions : IValidatableObject
{
    public const string Section = "Kafka";

    /// <summary>A real cluster's bootstrap servers. Empty: start the embedded broker in-process (memory only).</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>Brokers of the embedded cluster.</summary>
    [Range(1, 16)] public int EmbeddedBrokers { get; set; } = 3;

    /// <summary>Partitions of every platform topic created by ReaSeq (existing topics are left as they are).</summary>
    [Range(1, 1024)] public int Partitions { get; set; } = 6;

    /// <summary>Replication factor for topics ReaSeq creates on a real cluster.</summary>
    [Range(1, 16)] public short ReplicationFactor { get; set; } = 1;

    /// <summary>Confluent-compatible Schema Registry; empty: Avro single-object encoding without a registry.</summary>
    public string? SchemaRegistryUrl { get; set; }

    /// <summary>Prefix of every consumer group id, e.g. "reaseq" → "reaseq.ingest-clicks".</summary>
    [Required] public string GroupPrefix { get; set; } = "reaseq";

    /// <summary>Most records handled as one batch (one state transaction).</summary>
    [Range(1, 1_000_000)] public int MaxBatchSize { get; set; } = 5_000;

    /// <summary>
    /// Producers' linger.ms (librdkafka's default, 5 ms). Every role produces a batch's outputs at once and waits for their
    /// deliveries, so lingering looks useless, but 0 measured worse: the sequence benchmark's freshness p50 at 10,000
    /// clicks/s rose from 50-55 ms to 155-285 ms, as every send became a request of its own on the shared cores.
    /// </summary>
    [Range(0, 60_000)] public int LingerMs { get; set; } = 5;

    /// <summary>
    /// Consumers' fetch.wait.max.ms: how long a broker may hold a fetch that finds no new records. A Kafka broker answers
    /// as soon as records arrive, so there it only bounds idle polling. The embedded broker (librdkafka's mock cluster)
    /// holds every empty fetch for the whole wait even when records arrive meanwhile, so on it each consumer between a
    /// click and its feature adds up to this much latency: the sequence benchmark's freshness at 10,000 clicks/s measured
    /// p50/p99 35/67 ms at 10 ms and 22/45 ms at 2 ms, and runs with 2. The default stays 10: a smaller wait makes every
    /// idle consumer poll every broker that much more often, which `make run`'s many consumers pay on two cores.
    /// </summary>
    [Range(0, 60_000)] public int FetchWaitMaxMs { get; set; } = 10;

    /// <summary>Longest a consumer waits to fill a batch before handling what it has.</summary>
    [Range(1, 60_000)] public int MaxBatchWaitMs { get; set; } = 20;

    /// <summary>Largest record value accepted; bigger ones are dead-lettered unread.</summary>
    [Range(1, 100_000_000)] public int MaxRecordBytes { get; set; } = 1_000_000;

    /// <summary>
    /// Most bytes of a rejected record's value a dead letter carries (its original size and SHA-256 always): a letter must
    /// stay well below the broker's message size limit even for a record at that limit.
    /// </summary>
    [Range(0, 512 * 1024)] public int DeadLetterMaxValueBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Attempts a failing batch (state store or cluster unreachable, outputs not delivered) gets before its role reports
    /// itself unhealthy. The loop keeps retrying the batch after that (no data is skipped), logging an error each time.
    /// </summary>
    [Range(1, 1_000_000)] public int BatchRetryBudget { get; set; } = 8;

    /// <summary>
    /// How often each consumer reports librdkafka statistics, the source of the per-partition lag on /metrics
    /// (reaseq_consumer_lag). 0 switches them off.
    /// </summary>
    [Range(0, 3_600_000)] public int StatisticsIntervalMs { get; set; } = 5_000;

    /// <summary>
    /// security.protocol of every client: Plaintext, Ssl, SaslPlaintext or SaslSsl (env REASEQ__Kafka__SecurityProtocol).
    /// Null: librdkafka's default (plaintext) or what <see cref="Client"/> sets.
    /// </summary>
    public SecurityProtocol? SecurityProtocol { get; set; }

    /// <summary>sasl.mechanism: Plain, ScramSha256, ScramSha512 (or OAuthBearer / Gssapi with their settings in <see cref="Client"/>).</summary>
    public SaslMechanism? SaslMechanism { get; set; }

    /// <summary>sasl.username; from the environment or a Secret (REASEQ__Kafka__SaslUsername).</summary>
    public string? SaslUsername { get; set; }

    /// <summary>
    /// sasl.password; from the environment or a Secret only (REASEQ__Kafka__SaslPassword), never from a file in the
    /// image. It is handed to librdkafka and never logged (librdkafka redacts it in its own configuration dumps).
    /// </summary>
    public string? SaslPassword { get; set; }

    /// <summary>ssl.ca.location: the PEM file of the CA that signed the brokers' certificates (a mounted Secret); null: system CAs.</summary>
    public string? SslCaLocation { get; set; }

    /// <summary>
    /// Extra librdkafka properties passed to every client after the typed settings above (e.g. ssl.certificate.location
    /// for mutual TLS, sasl.oauthbearer.*); env REASEQ__Kafka__Client__&lt;property&gt;.
    /// </summary>
    public Dictionary<string, string> Client { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);

    /// <summary>SASL needs its credentials; checked at start, naming the setting and never echoing a value.</summary>
    public void Validate()
    {
        var sasl = SecurityProtocol is Confluent.Kafka.SecurityProtocol.SaslPlaintext or Confluent.Kafka.SecurityProtocol.SaslSsl;
        var passwordMechanism = SaslMechanism is null or Confluent.Kafka.SaslMechanism.Plain
            or Confluent.Kafka.SaslMechanism.ScramSha256 or Confluent.Kafka.SaslMechanism.ScramSha512;
        if (sasl && passwordMechanism && (string.IsNullOrEmpty(SaslUsername) || string.IsNullOrEmpty(SaslPassword)))
        {
            throw new ArgumentException($"Kafka:SecurityProtocol {SecurityProtocol} with SASL mechanism {SaslMechanism?.ToString() ?? "Plain"} needs " +
                                        "Kafka:SaslUsername and Kafka:SaslPassword (from the environment or a Secret)");
        }
    }

    /// <summary>Writes the security settings into a client configuration (the one place they reach librdkafka).</summary>
    public void ApplySecurity(ClientConfig config)
    {
        if (SecurityProtocol is { } protocol) config.SecurityProtocol = protocol;
        if (SaslMechanism is { } mechanism) config.SaslMechanism = mechanism;
        if (!string.IsNullOrEmpty(SaslUsername)) config.SaslUsername = SaslUsername;
        if (!string.IsNullOrEmpty(SaslPassword)) config.SaslPassword = SaslPassword;
        if (!string.IsNullOrEmpty(SslCaLocation)) config.SslCaLocation = SslCaLocation;
    }
}
