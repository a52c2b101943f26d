using System.Diagnostics.Metrics;

namespace ReaSeq.Processors.Dllm;

/// <summary>
/// Instruments of the dllm role (meter "ReaSeq.Dllm"): sequences and fills published, dead letters, inference and
/// training time, the model version in use, and IB-ACC / IB-PPL on [MASK] and [FILL] of the newest version's
/// held-out batch (paper §4.2.1).
/// </summary>
public sealed class DllmMetrics : IDisposable
{
    public const string MeterName = "ReaSeq.Dllm";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _sequences;
    private readonly Counter<long> _fills;
    private readonly Counter<long> _deadLetters;
    private readonly Counter<long> _unknownItems;
    private readonly Histogram<double> _inference;
    private readonly Histogram<double> _training;
    private DllmModelVersion? _newest;
    private long _inUse;
    private long _windows;

    public DllmMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _sequences = _meter.CreateCounter<long>("reaseq_dllm_sequences_total", "{sequence}", "AugmentedSequences published.");
        _fills = _meter.CreateCounter<long>("reaseq_dllm_fills_total", "{position}", "Gap positions filled.");
        _deadLetters = _meter.CreateCounter<long>("reaseq_dllm_dead_letters_total", "{record}", "SequenceUpdates dead-lettered, by reason.");
        _unknownItems = _meter.CreateCounter<long>("reaseq_dllm_unknown_items_total", "{position}",
            "Window positions whose item had no knowledge vector when filled (entered the model as [MASK]).");
        _inference = _meter.CreateHistogram<double>("reaseq_dllm_batch_seconds", "s", "Time to fill one batch of SequenceUpdates (join, model, nearest items).");
        _training = _meter.CreateHistogram<double>("reaseq_dllm_train_seconds", "s", "Time to train one model version.");
        _meter.CreateObservableGauge("reaseq_dllm_model_version", () => Interlocked.Read(ref _inUse), "{version}", "Newest model version the filling job uses.");
        _meter.CreateObservableGauge("reaseq_dllm_training_windows", () => Interlocked.Read(ref _windows), "{window}", "Labeled windows kept as training data.");
        _meter.CreateObservableGauge("reaseq_dllm_ib_acc", () => Held("acc"), "1", "IB-ACC of the newest version on its held-out batch, by token ([MASK] / [FILL]).");
        _meter.CreateObservableGauge("reaseq_dllm_ib_ppl", () => Held("ppl"), "1", "IB-PPL of the newest version on its held-out batch, by token ([MASK] / [FILL]).");
    }

    /// <summary>The newest version seen (trained here or loaded).</summary>
    public DllmModelVersion? Newest => Volatile.Read(ref _newest);

    public void Published(int sequences, int fills)
    {
        _sequences.Add(sequences);
        _fills.Add(fills);
    }

    public void DeadLettered(string reason) => _deadLetters.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void UnknownItems(int positions) => _unknownItems.Add(positions);

    public void BatchFilled(TimeSpan elapsed) => _inference.Record(elapsed.TotalSeconds);

    public void Trained(DllmModelVersion version, TimeSpan elapsed)
    {
        _training.Record(elapsed.TotalSeconds);
        Seen(version);
    }

    public void Seen(DllmModelVersion version)
    {
        while (true)
        {
            var current = Volatile.Read(ref _newest);
            if (current is not null && current.Version >= version.Version) return;
            if (Interlocked.CompareExchange(ref _newest, version, current) == current) return;
        }
    }

    public void InUse(long version) => Interlocked.Exchange(ref _inUse, version);

    public void TrainingWindows(long count) => Interlocked.Exchange(ref _windows, count);

    private IEnumerable<Measurement<double>> Held(string metric)
    {
        if (Newest is not { } version) yield break;
        foreach (var token in new[] { "mask", "fill" })
        {
            var value = version.Metric($"{token}_ib_{metric}");
            if (double.IsFinite(value)) yield return new Measurement<double>(value, new KeyValuePair<string, object?>("token", token));
        }
    }

    public void Dispose()
    {
        if (_ownsMeter) _meter.Dispose();
    }
}
