using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Npgsql;

namespace ReaSeq.Ingestors.Streaming.Operations;

/// <summary>
/// The instruments every role gets from the shared runtime (meter "ReaSeq.Streaming", exported on /metrics): records in
/// and out per topic, batch latency, consumer lag per partition, batch failures by cause, broker and PostgreSQL errors,
/// and the freshness histograms (DESIGN §6: latency; event entering the platform → feature delivered). Per-record work is one
/// counter add per batch and topic, so the hot path pays nothing per record.
/// </summary>
public static class StreamingMetrics
{
    public const string MeterName = "ReaSeq.Streaming";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> RecordsIn = Meter.CreateCounter<long>("reaseq_records_in_total", "{record}",
        "Records a consumer job handed to its handler and made durable, by consumer group and topic");

    private static readonly Counter<long> RecordsOut = Meter.CreateCounter<long>("reaseq_records_out_total", "{record}",
        "Records delivered to the broker (acknowledged by acks=all), by topic");

    private static readonly Histogram<double> BatchSeconds = Meter.CreateHistogram<double>("reaseq_batch_duration_seconds", "s",
        "Time from handing a batch to its handler until its state is durable (retries included), by consumer group",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

    private static readonly Counter<long> BatchFailures = Meter.CreateCounter<long>("reaseq_batch_failures_total", "{failure}",
        "Batch attempts that failed and will be retried, by consumer group and cause (postgres, broker, other)");

    private static readonly Counter<long> BrokerErrors = Meter.CreateCounter<long>("reaseq_broker_errors_total", "{error}",
        "Errors reported by the Kafka clients (connection, delivery, fatal), by client kind and error code");

    private static readonly Counter<long> ConsumerRestarts = Meter.CreateCounter<long>("reaseq_consumer_restarts_total", "{restart}",
        "Kafka consumers of a consumer job that failed and were replaced by a new one, by consumer group and cause (postgres, broker, other)");

    private static readonly Counter<long> PostgresErrors = Meter.CreateCounter<long>("reaseq_postgres_errors_total", "{error}",
        "PostgreSQL failures met by consumer jobs and readiness checks, by consumer group (or 'readiness') and SQL state");

    private static readonly Histogram<double> Freshness = Meter.CreateHistogram<double>("reaseq_freshness_seconds", "s",
        "Time from an event entering the platform (its Kafka timestamp) until the feature derived from it is delivered, by stage",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });

    private static readonly ModelVersions Models = new(Meter);

    /// <summary>Consumer lag per partition, from librdkafka's statistics (see <see cref="ConsumerLag"/>).</summary>
    public static ConsumerLag Lag { get; } = new(Meter);

    public static void RecordsConsumed(string group, IEnumerable<ConsumeResult<byte[]?, byte[]?>> batch)
    {
        if (!RecordsIn.Enabled) return;
        foreach (var byTopic in batch.GroupBy(r => r.Topic))
            RecordsIn.Add(byTopic.LongCount(), new("group", group), new("topic", byTopic.Key));
    }

    public static void RecordDelivered(string topic) => RecordsOut.Add(1, new KeyValuePair<string, object?>("topic", topic));

    public static void BatchDone(string group, TimeSpan elapsed) =>
        BatchSeconds.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("group", group));

    /// <summary>Counts a failed batch attempt by its cause; PostgreSQL and broker causes also count as their errors.</summary>
    public static void BatchFailed(string group, Exception error)
    {
        var cause = CauseOf(error);
        BatchFailures.Add(1, new("group", group), new("cause", cause));
        if (cause == "postgres") PostgresError(group, error);
    }

    public static void PostgresError(string source, Exception error) =>
        PostgresErrors.Add(1, new("source", source), new("sqlstate", Find<PostgresException>(error)?.SqlState ?? "connection"));

    public static void ConsumerRestarted(string group, Exception error) =>
        ConsumerRestarts.Add(1, new("group", group), new("cause", CauseOf(error)));

    public static void BrokerError(string client, ErrorCode code) =>
        BrokerErrors.Add(1, new("client", client), new("code", code.ToString()));

    /// <summary>
    /// One freshness observation: <paramref name="stage"/> names the feature (sequence_update, augmented_sequence,
    /// api_features), <paramref name="enteredAt"/> is the source record's Kafka timestamp (set by the producer when the
    /// event entered the platform; event time would measure the data set's age in a replay, not the platform's delay).
    /// </summary>
    public static void RecordFreshness(string stage, Timestamp enteredAt, DateTimeOffset now)
    {
        if (!Freshness.Enabled || enteredAt.Type == TimestampType.NotAvailable) return;
        var seconds = (now - enteredAt.UtcDateTime).TotalSeconds;
        Freshness.Record(Math.Max(0, seconds), new KeyValuePair<string, object?>("stage", stage));
    }

    /// <summary>
    /// Kafka header on a derived record (a SequenceUpdate) carrying when its source event entered the platform: the
    /// source record's Kafka timestamp in Unix milliseconds, as ASCII digits. The record's own Kafka timestamp is when
    /// the deriving role produced it, so a stage further down (the dllm role's AugmentedSequence) needs this header to
    /// measure freshness from the click rather than from the intermediate record.
    /// </summary>
    public const string EnteredAtHeader = "reaseq-entered-ms";

    /// <summary>Headers carrying <paramref name="enteredAt"/> (see <see cref="EnteredAtHeader"/>); null when it is unknown.</summary>
    public static Headers? EnteredAtHeaders(Timestamp enteredAt)
    {
        if (enteredAt.Type == TimestampType.NotAvailable) return null;
        return new Headers { { EnteredAtHeader, System.Text.Encoding.ASCII.GetBytes(enteredAt.UnixTimestampMs.ToString(System.Globalization.CultureInfo.InvariantCulture)) } };
    }

    /// <summary>The <see cref="EnteredAtHeader"/> of a consumed record; NotAvailable when it is absent or unreadable.</summary>
    public static Timestamp EnteredAt(Headers? headers)
    {
        if (headers is null || !headers.TryGetLastBytes(EnteredAtHeader, out var bytes)) return Timestamp.Default;
        return long.TryParse(System.Text.Encoding.ASCII.GetString(bytes), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? new Timestamp(ms, TimestampType.CreateTime)
            : Timestamp.Default;
    }

    /// <summary>The version of a model a role serves or uses, for `reaseq status` and dashboards (gauge reaseq_model_version).</summary>
    public static void ReportModelVersion(string role, string model, long version) => Models.Report(role, model, version);

    /// <summary>postgres, broker or other: what an operator looks at first when batches keep failing.</summary>
    public static string CauseOf(Exception error) =>
        Find<NpgsqlException>(error) is not null ? "postgres"
        : Find<KafkaException>(error) is not null || Find<DeliveryFailedException>(error) is not null ? "broker"
        : "other";

    private static T? Find<T>(Exception? error) where T : Exception
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is T match) return match;
            if (e is AggregateException { InnerExceptions.Count: > 0 } a) return a.InnerExceptions.Select(Find<T>).FirstOrDefault(x => x is not null);
        }
        return null;
    }
}
