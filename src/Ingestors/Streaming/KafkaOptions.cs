using System.ComponentModel.DataAnnotations;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>Configuration section "Kafka" (env: REASEQ__Kafka__BootstrapServers, ...).</summary>
public sealed class KafkaOptions
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

    /// <summary>Extra librdkafka properties passed to every client (security.protocol, sasl.*, ...).</summary>
    public Dictionary<string, string> Client { get; set; } = new();
}
