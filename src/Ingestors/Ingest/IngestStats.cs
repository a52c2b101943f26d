using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ReaSeq.Ingestors.Ingest;

/// <summary>Running totals per topic, for metrics and the live progress line of `reaseq run`.</summary>
public sealed class IngestStats
{
    private static readonly Meter Meter = new("ReaSeq.Ingest");
    private static readonly Counter<long> Accepted = Meter.CreateCounter<long>("reaseq_ingested_total", description: "Records accepted into state");
    private static readonly Counter<long> Duplicates = Meter.CreateCounter<long>("reaseq_duplicates_total", description: "Records whose id was already ingested");
    private static readonly Histogram<double> BatchSeconds = Meter.CreateHistogram<double>("reaseq_batch_seconds", "s", "Time to make one batch durable");

    private readonly ConcurrentDictionary<string, Totals> _byTopic = new();

    public sealed class Totals
    {
        public long Consumed;
        public long Accepted;
        public long Duplicates;
        public long DeadLettered;
    }

    public Totals For(string topic) => _byTopic.GetOrAdd(topic, _ => new Totals());

    public IReadOnlyDictionary<string, Totals> Snapshot() => _byTopic;

    internal void Record(string topic, long consumed, long accepted, long duplicates, long deadLettered, double seconds)
    {
        var t = For(topic);
        Interlocked.Add(ref t.Consumed, consumed);
        Interlocked.Add(ref t.Accepted, accepted);
        Interlocked.Add(ref t.Duplicates, duplicates);
        Interlocked.Add(ref t.DeadLettered, deadLettered);
        var tag = new KeyValuePair<string, object?>("topic", topic);
        Accepted.Add(accepted, tag);
        if (duplicates > 0) Duplicates.Add(duplicates, tag);
        BatchSeconds.Record(seconds, tag);
    }
}
