using System.Diagnostics.Metrics;

namespace ReaSeq.Api;

/// <summary>Instruments of the api role (meter ReaSeq.Api), exported with the platform's other ReaSeq.* meters.</summary>
public sealed class ApiMetrics
{
    public const string MeterName = "ReaSeq.Api";

    public ApiMetrics(IMeterFactory? meterFactory = null)
    {
        Meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Requests = Meter.CreateCounter<long>("reaseq_api_requests_total", description: "Requests by endpoint and status code");
        Duration = Meter.CreateHistogram<double>("reaseq_api_request_duration_seconds", "s", "Request latency by endpoint");
        Candidates = Meter.CreateCounter<long>("reaseq_api_scored_candidates_total", description: "Candidates answered by /v1/score, by status");
        Invalidations = Meter.CreateCounter<long>("reaseq_api_cache_invalidations_total", description: "Feature cache entries invalidated, by topic");
        BadFeatureRecords = Meter.CreateCounter<long>("reaseq_api_bad_feature_records_total", description: "Feature topic records the cache listener could not decode");
        ModelSwaps = Meter.CreateCounter<long>("reaseq_api_model_swaps_total", description: "CTR model versions swapped in");
        ModelLoadFailures = Meter.CreateCounter<long>("reaseq_api_model_load_failures_total", description: "CTR model versions that could not be loaded");
    }

    public Meter Meter { get; }

    public Counter<long> Requests { get; }

    public Histogram<double> Duration { get; }

    public Counter<long> Candidates { get; }

    public Counter<long> Invalidations { get; }

    public Counter<long> BadFeatureRecords { get; }

    public Counter<long> ModelSwaps { get; }

    public Counter<long> ModelLoadFailures { get; }
}
