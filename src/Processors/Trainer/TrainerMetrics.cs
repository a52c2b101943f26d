using System.Diagnostics.Metrics;
using ReaSeq.Models.Ctr;

namespace ReaSeq.Processors.Trainer;

/// <summary>
/// Instruments of the trainer (meter ReaSeq.Trainer): prequential AUC / GAUC per segment over the rolling window,
/// trained impressions, versions, model freshness and leadership.
/// </summary>
public sealed class TrainerMetrics : IDisposable
{
    public const string MeterName = "ReaSeq.Trainer";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _trained;
    private readonly Counter<long> _versions;
    private readonly Histogram<double> _freshness;
    private volatile CtrEvaluationSnapshot? _evaluation;
    private long _seq;
    private int _leader;
    private double _loss = double.NaN;

    public TrainerMetrics()
    {
        _trained = _meter.CreateCounter<long>("reaseq_trainer_impressions_total", description: "Impressions scored (prequentially) and trained on.");
        _versions = _meter.CreateCounter<long>("reaseq_trainer_versions_total", description: "Model versions published to the registry.");
        _freshness = _meter.CreateHistogram<double>("reaseq_trainer_model_freshness_seconds", "s",
            "Per version: from the oldest impression it newly trained on being produced to the version being published.");
        _meter.CreateObservableGauge("reaseq_trainer_auc", () => Segments(m => m.Auc), description: "Prequential AUC over the rolling window.");
        _meter.CreateObservableGauge("reaseq_trainer_gauc", () => Segments(m => m.Gauc), description: "Prequential GAUC over the rolling window.");
        _meter.CreateObservableGauge("reaseq_trainer_model_version", () => Interlocked.Read(ref _seq), description: "Sequence number of the latest version.");
        _meter.CreateObservableGauge("reaseq_trainer_leader", () => Volatile.Read(ref _leader), description: "1 while this process is the deployment's trainer.");
        _meter.CreateObservableGauge("reaseq_trainer_loss", () => Volatile.Read(ref _loss), description: "BCE of the latest mini-batch.");
    }

    /// <summary>The latest evaluation published with a version (or computed for the summary).</summary>
    public CtrEvaluationSnapshot? Evaluation => _evaluation;

    public string? LatestVersion { get; private set; }

    public double? LastFreshnessSeconds { get; private set; }

    public bool IsLeader => Volatile.Read(ref _leader) == 1;

    public void Trained(int impressions, float loss)
    {
        _trained.Add(impressions);
        Volatile.Write(ref _loss, loss);
    }

    public void Evaluated(CtrEvaluationSnapshot snapshot) => _evaluation = snapshot;

    public void Published(string version, long seq, double? freshnessSeconds)
    {
        _versions.Add(1);
        Interlocked.Exchange(ref _seq, seq);
        LatestVersion = version;
        if (freshnessSeconds is { } f)
        {
            _freshness.Record(f);
            LastFreshnessSeconds = f;
        }
    }

    public void Leader(bool leader) => Volatile.Write(ref _leader, leader ? 1 : 0);

    private IEnumerable<Measurement<double>> Segments(Func<CtrSegmentMetrics, double> pick)
    {
        if (_evaluation is not { } e) yield break;
        foreach (var (name, segment) in new[] { ("overall", e.Overall), ("sparse", e.Sparse), ("active", e.Active) })
        {
            double value = pick(segment);
            if (!double.IsNaN(value)) yield return new Measurement<double>(value, new KeyValuePair<string, object?>("segment", name));
        }
    }

    public void Dispose() => _meter.Dispose();
}
