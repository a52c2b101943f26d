using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using ReaSeq.Ingestors.Streaming.Operations;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// Where a click's freshness goes, read from the role's own metrics while a phase runs: how long its batches took to
/// become durable (reaseq_batch_duration_seconds), how many records each held (reaseq_records_in_total), and the
/// role's freshness up to the broker's acknowledgement of the update (reaseq_freshness_seconds); and the last leg, an
/// update's Kafka timestamp until the benchmark's reader has it (<see cref="UpdateRead"/>). Nothing of the role changes
/// to be measured.
/// </summary>
public sealed class StageTimings : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<double> _batchMs = new();
    private readonly ConcurrentQueue<long> _batchRecords = new();
    private readonly ConcurrentQueue<double> _ackedMs = new();
    private readonly ConcurrentQueue<double> _readMs = new();
    private volatile bool _recording;

    public StageTimings(string group, string freshnessStage)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == StreamingMetrics.MeterName &&
                instrument.Name is "reaseq_batch_duration_seconds" or "reaseq_records_in_total" or "reaseq_freshness_seconds")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (!_recording) return;
            if (instrument.Name == "reaseq_batch_duration_seconds" && Has(tags, "group", group)) _batchMs.Enqueue(value * 1000);
            else if (instrument.Name == "reaseq_freshness_seconds" && Has(tags, "stage", freshnessStage)) _ackedMs.Enqueue(value * 1000);
        });
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (_recording && instrument.Name == "reaseq_records_in_total" && Has(tags, "group", group)) _batchRecords.Enqueue(value);
        });
        _listener.Start();
    }

    /// <summary>Starts a phase: what was recorded before is dropped.</summary>
    public void Start()
    {
        _batchMs.Clear();
        _batchRecords.Clear();
        _ackedMs.Clear();
        _readMs.Clear();
        _recording = true;
    }

    /// <summary>The reader has an update the role produced at <paramref name="produced"/> (its Kafka timestamp).</summary>
    public void UpdateRead(Confluent.Kafka.Timestamp produced)
    {
        if (_recording) _readMs.Enqueue(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - produced.UnixTimestampMs);
    }

    /// <summary>Ends the phase and summarises it.</summary>
    public JsonObject Stop()
    {
        _recording = false;
        var batches = _batchMs.Order().ToArray();
        var records = _batchRecords.Order().ToArray();
        var acked = _ackedMs.Order().ToArray();
        var read = _readMs.Order().ToArray();
        return new JsonObject
        {
            ["batches"] = batches.Length,
            ["batch_durable_p50_ms"] = Percentile(batches, 0.50),
            ["batch_durable_p99_ms"] = Percentile(batches, 0.99),
            ["batch_durable_max_ms"] = batches.Length == 0 ? null : Math.Round(batches[^1], 2),
            ["batch_records_mean"] = records.Length == 0 ? null : Math.Round(records.Average(), 1),
            ["batch_records_p99"] = Percentile(records.Select(r => (double)r).ToArray(), 0.99),
            // Kafka timestamps are whole milliseconds: these are ±1 ms.
            ["click_to_update_acked_p50_ms"] = Percentile(acked, 0.50),
            ["click_to_update_acked_p99_ms"] = Percentile(acked, 0.99),
            ["update_produced_to_read_p50_ms"] = Percentile(read, 0.50),
            ["update_produced_to_read_p99_ms"] = Percentile(read, 0.99),
        };
    }

    /// <summary>The value at quantile <paramref name="q"/> of ascending samples, to 0.01; null without samples.</summary>
    internal static double? Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? null : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))], 2);

    private static bool Has(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key, string value)
    {
        foreach (var tag in tags)
            if (tag.Key == key && tag.Value as string == value) return true;
        return false;
    }

    public void Dispose() => _listener.Dispose();
}
