namespace ReaSeq.Processors.Sequence;

/// <summary>
/// Streaming quantile sketch of inter-event gaps: a log-bucketed histogram with relative accuracy a
/// (bucket b ≥ 1 holds gaps in (γ^(b−1), γ^b] ms with γ = (1+a)/(1−a); bucket 0 holds gaps of 0 ms).
/// Any quantile is returned within a relative error of a. When the total weight passes a cap, every
/// count is halved, so the sketch follows a drifting platform while staying deterministic.
/// </summary>
public sealed class GapQuantileSketch
{
    // Gaps are clamped here (about 285 millennia); the bucket array is sized for it.
    private const long MaxGapMs = 1L << 53;

    private readonly double _logGamma;
    private readonly long[] _counts;

    public GapQuantileSketch(double relativeAccuracy = 0.02, long maxWeight = 1_000_000)
    {
        if (!(relativeAccuracy > 0 && relativeAccuracy < 0.5))
            throw new ArgumentOutOfRangeException(nameof(relativeAccuracy), relativeAccuracy, "Relative accuracy must be in (0, 0.5).");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWeight, 2);
        RelativeAccuracy = relativeAccuracy;
        MaxWeight = maxWeight;
        _logGamma = Math.Log((1 + relativeAccuracy) / (1 - relativeAccuracy));
        _counts = new long[BucketOf(MaxGapMs) + 1];
    }

    public double RelativeAccuracy { get; }

    public long MaxWeight { get; }

    /// <summary>Current (possibly halved) total weight of the sketch.</summary>
    public long TotalWeight { get; private set; }

    public void Add(long gapMs)
    {
        _counts[BucketOf(gapMs)]++;
        if (++TotalWeight <= MaxWeight) return;
        TotalWeight = 0;
        for (var i = 0; i < _counts.Length; i++) TotalWeight += _counts[i] >>= 1;
    }

    /// <summary>The bucket counts up to the last non-empty bucket (what a partition publishes for the deployment-wide merge).</summary>
    public long[] UsedCounts()
    {
        var used = _counts.Length;
        while (used > 0 && _counts[used - 1] == 0) used--;
        return _counts[..used];
    }

    /// <summary>
    /// Adds another sketch's bucket counts (same relative accuracy): the merge of two sketches is the sketch of the
    /// union of their gaps, and summing is order-independent, so a merge over partitions is deterministic.
    /// No halving is applied to a merged sketch.
    /// </summary>
    public void Merge(ReadOnlySpan<long> counts)
    {
        if (counts.Length > _counts.Length)
            throw new ArgumentException($"A sketch has at most {_counts.Length} buckets; {counts.Length} were given.", nameof(counts));
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] < 0) throw new ArgumentException($"Bucket {i} has a negative count ({counts[i]}).", nameof(counts));
            _counts[i] += counts[i];
            TotalWeight += counts[i];
        }
    }

    /// <summary>The q-quantile of the gaps seen (0 when empty), within the sketch's relative accuracy.</summary>
    public long Quantile(double q)
    {
        if (!(q >= 0 && q <= 1)) throw new ArgumentOutOfRangeException(nameof(q), q, "Quantile must be in [0, 1].");
        if (TotalWeight == 0) return 0;
        var rank = (long)Math.Floor(q * (TotalWeight - 1));
        var cumulative = 0L;
        for (var bucket = 0; bucket < _counts.Length; bucket++)
        {
            cumulative += _counts[bucket];
            if (cumulative > rank) return Representative(bucket);
        }
        return Representative(_counts.Length - 1);
    }

    private int BucketOf(long gapMs)
    {
        if (gapMs <= 0) return 0;
        if (gapMs > MaxGapMs) gapMs = MaxGapMs;
        return 1 + (int)Math.Floor(Math.Log(gapMs) / _logGamma);
    }

    private long Representative(int bucket)
    {
        if (bucket == 0) return 0;
        // The harmonic-style midpoint 2·lo·hi/(lo+hi) is within a of every value in (lo, hi].
        var low = Math.Exp((bucket - 1) * _logGamma);
        var high = Math.Exp(bucket * _logGamma);
        return (long)Math.Round(2 * low * high / (low + high));
    }

    public void Write(BinaryWriter writer)
    {
        writer.Write(RelativeAccuracy);
        writer.Write(MaxWeight);
        writer.Write(TotalWeight);
        var used = _counts.Length;
        while (used > 0 && _counts[used - 1] == 0) used--;
        writer.Write(used);
        for (var i = 0; i < used; i++) writer.Write(_counts[i]);
    }

    public static GapQuantileSketch Read(BinaryReader reader)
    {
        var sketch = new GapQuantileSketch(reader.ReadDouble(), reader.ReadInt64());
        var total = reader.ReadInt64();
        var used = reader.ReadInt32();
        if (used < 0 || used > sketch._counts.Length)
            throw new InvalidDataException($"Gap sketch snapshot has {used} buckets; at most {sketch._counts.Length} are possible.");
        var sum = 0L;
        for (var i = 0; i < used; i++) sum += sketch._counts[i] = reader.ReadInt64();
        if (sum != total) throw new InvalidDataException($"Gap sketch snapshot counts sum to {sum}, header says {total}.");
        sketch.TotalWeight = total;
        return sketch;
    }
}

/// <summary>Log-friendly description of a domain's TD threshold.</summary>
public sealed record TemporalThresholdInfo(string Domain, long ThresholdMs, double Percentile, long GapsObserved, bool DataDriven, bool Fixed)
{
    public override string ToString() =>
        Fixed ? $"domain '{Domain}': T = {ThresholdMs} ms (fixed)"
        : DataDriven ? $"domain '{Domain}': T = {ThresholdMs} ms = p{Percentile * 100:0.#} of {GapsObserved} gaps"
        : $"domain '{Domain}': T = {ThresholdMs} ms (initial, warming up: {GapsObserved} gaps seen)";
}
