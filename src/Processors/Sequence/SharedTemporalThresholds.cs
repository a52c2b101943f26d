using System.Collections.Concurrent;

namespace ReaSeq.Processors.Sequence;

/// <summary>T of one domain for one refresh epoch, frozen once and then read by every partition.</summary>
/// <param name="Domain"></param>
/// <param name="Epoch">Event-time epoch: ⌊ts / EpochMs⌋.</param>
/// <param name="ThresholdMs"></param>
/// <param name="Gaps">Basket gaps in the merged sketch it was computed from (0: initial or fixed T).</param>
/// <param name="DataDriven"></param>
public sealed record FrozenThreshold(string Domain, long Epoch, long ThresholdMs, long Gaps, bool DataDriven);

/// <summary>
/// One T per domain for the whole deployment (issue 9 §1.2): every partition publishes its gap sketch per domain, the
/// sketches are merged (bucket counts summed), and T is frozen per event-time refresh epoch (⌊ts / EpochMs⌋) on first
/// use, recorded in the store and then read by every partition. A transition uses the T of its event's epoch, and the
/// T is recorded with the decision as before.
/// </summary>
public sealed class SharedTemporalThresholds(SequenceDetectorOptions options, IGapSketchStore store, long epochMs) : ITemporalThresholdSource
{
    private readonly ConcurrentDictionary<(string Domain, long Epoch), FrozenThreshold> _frozen = new();

    public long EpochMs { get; } = epochMs > 0 ? epochMs : throw new ArgumentOutOfRangeException(nameof(epochMs), epochMs, "The threshold epoch must be positive.");

    public IGapSketchStore Store => store;

    public long EpochOf(long timestampMs) => Math.DivRem(timestampMs, EpochMs) is var (q, r) && r < 0 ? q - 1 : q;

    public long? ThresholdMs(string domain, long timestampMs) =>
        _frozen.TryGetValue((domain, EpochOf(timestampMs)), out var frozen) ? frozen.ThresholdMs : null;

    /// <summary>Every threshold frozen so far, by domain then epoch.</summary>
    public IReadOnlyList<FrozenThreshold> Frozen => [.. _frozen.Values.OrderBy(f => f.Domain, StringComparer.Ordinal).ThenBy(f => f.Epoch)];

    /// <summary>The (domain, epoch) pairs a click needs: its own epoch and those of events it may be re-evaluated against (within the out-of-order tolerance).</summary>
    public IEnumerable<(string Domain, long Epoch)> Needed(string domain, long timestampMs)
    {
        var last = EpochOf(timestampMs + options.OutOfOrderToleranceMs);
        for (var e = EpochOf(timestampMs); e <= last; e++)
            if (!_frozen.ContainsKey((domain, e))) yield return (domain, e);
    }

    /// <summary>
    /// Makes sure T is known for every pair in <paramref name="needed"/>: publishes the partitions' current sketches
    /// first (only when some pair is not frozen yet), then freezes (or reads) each pair from the store.
    /// </summary>
    public async Task PrepareAsync(IEnumerable<(string Domain, long Epoch)> needed, Func<IEnumerable<(int Partition, SequenceDetector Detector)>> partitions, CancellationToken ct)
    {
        var missing = needed.Where(n => !_frozen.ContainsKey(n)).Distinct().ToList();
        if (missing.Count == 0) return;
        await PublishAsync(partitions(), ct);
        foreach (var (domain, epoch) in missing)
            _frozen[(domain, epoch)] = await store.FreezeAsync(domain, epoch, merged => Compute(domain, epoch, merged), ct);
    }

    /// <summary>Upserts each partition's current gap sketch per domain (its contribution to the merged sketch).</summary>
    public async Task PublishAsync(IEnumerable<(int Partition, SequenceDetector Detector)> partitions, CancellationToken ct)
    {
        foreach (var (partition, detector) in partitions)
        {
            foreach (var (domain, counts) in detector.GapSketchCounts()) await store.PublishAsync(partition, domain, counts, ct);
        }
    }

    /// <summary>T from a merged sketch: fixed, initial during warm-up, else its percentile.</summary>
    public FrozenThreshold Compute(string domain, long epoch, GapQuantileSketch merged)
    {
        if (options.FixedTemporalThresholdMs is { } fixedMs) return new(domain, epoch, fixedMs, 0, false);
        if (merged.TotalWeight < options.TemporalWarmupGaps) return new(domain, epoch, options.InitialTemporalThresholdMs, merged.TotalWeight, false);
        return new(domain, epoch, merged.Quantile(options.TemporalPercentile), merged.TotalWeight, true);
    }
}
