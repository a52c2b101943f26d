namespace ReaSeq.Processors.Sequence;

/// <summary>The temporal-discontinuity threshold T of one domain: fixed, or a percentile of its gap sketch.</summary>
public sealed class TemporalThreshold
{
    private readonly SequenceDetectorOptions _options;
    private long _samplesSinceRefresh;

    internal TemporalThreshold(string domain, SequenceDetectorOptions options, GapQuantileSketch? sketch = null)
    {
        Domain = domain;
        _options = options;
        Sketch = sketch ?? new GapQuantileSketch(options.SketchRelativeAccuracy, options.SketchMaxWeight);
        CurrentMs = options.FixedTemporalThresholdMs ?? options.InitialTemporalThresholdMs;
    }

    public string Domain { get; }

    public GapQuantileSketch Sketch { get; }

    /// <summary>The threshold applied to decisions now (a gap is temporal when Δt &gt; T).</summary>
    public long CurrentMs { get; private set; }

    /// <summary>Gaps observed in this domain (not reduced by the sketch's halving).</summary>
    public long GapsObserved { get; private set; }

    /// <summary>True once T comes from data rather than the fixed or initial value.</summary>
    public bool IsDataDriven => _options.FixedTemporalThresholdMs is null && GapsObserved >= _options.TemporalWarmupGaps;

    /// <summary>Feeds one observed gap; returns true when the threshold changed.</summary>
    public bool Observe(long gapMs)
    {
        Sketch.Add(gapMs);
        GapsObserved++;
        if (_options.FixedTemporalThresholdMs is not null || GapsObserved < _options.TemporalWarmupGaps) return false;
        // Recompute when warm-up completes, then every TemporalRefreshEvery gaps: O(buckets) amortised to O(1).
        if (GapsObserved != _options.TemporalWarmupGaps && ++_samplesSinceRefresh < _options.TemporalRefreshEvery) return false;
        _samplesSinceRefresh = 0;
        var previous = CurrentMs;
        CurrentMs = Sketch.Quantile(_options.TemporalPercentile);
        return CurrentMs != previous;
    }

    public TemporalThresholdInfo Describe() => new(Domain, CurrentMs, _options.TemporalPercentile, GapsObserved, IsDataDriven, _options.FixedTemporalThresholdMs is not null);

    internal void Write(BinaryWriter writer)
    {
        writer.Write(Domain);
        writer.Write(CurrentMs);
        writer.Write(GapsObserved);
        writer.Write(_samplesSinceRefresh);
        Sketch.Write(writer);
    }

    internal static TemporalThreshold Read(BinaryReader reader, SequenceDetectorOptions options)
    {
        var domain = reader.ReadString();
        var current = reader.ReadInt64();
        var observed = reader.ReadInt64();
        var sinceRefresh = reader.ReadInt64();
        var sketch = GapQuantileSketch.Read(reader);
        return new TemporalThreshold(domain, options, sketch) { CurrentMs = current, GapsObserved = observed, _samplesSinceRefresh = sinceRefresh };
    }
}
