using System.Collections.Concurrent;

namespace ReaSeq.Processors.Sequence;

/// <summary>Supplies T for a transition instead of the detector's own (per-detector) sketch.</summary>
public interface ITemporalThresholdSource
{
    /// <summary>T for a transition into an event at <paramref name="timestampMs"/> in <paramref name="domain"/>; null: not known (the detector falls back to its own).</summary>
    long? ThresholdMs(string domain, long timestampMs);
}

/// <summary>T of one domain for one refresh epoch, frozen once and then read by every partition.</summary>
/// <param name="Domain"></param>
/// <param name="Epoch">Event-time epoch: ⌊ts / EpochMs⌋.</param>
/// <param name="ThresholdMs"></param>
/// <param name="Gaps">Basket gaps in the merged sketch it was computed from (0: initial or fixed T).</param>
/// <param name="DataDriven"></param>
public sealed record FrozenThreshold(string Domain, long Epoch, long ThresholdMs, long Gaps, bool DataDriven);

/// <summary>
/// Where partitions publish their gap sketches and freeze the deployment-wide T of a (domain, epoch).
/// <see cref="FreezeAsync"/> is first-writer-wins: once an epoch's T is recorded, every partition, every restart and
/// every replay reads the recorded value, so decisions depend on the input and the record, never on timing.
/// </summary>
public interface IGapSketchStore
{
    /// <summary>Replaces the contribution of one partition to one domain with its sketch's counts.</summary>
    Task PublishAsync(int partition, string domain, long[] counts, CancellationToken ct);

    /// <summary>Returns the recorded T of (domain, epoch); if none is recorded, computes one from the merged sketch of every partition and records it.</summary>
    Task<FrozenThreshold> FreezeAsync(string domain, long epoch, Func<GapQuantileSketch, FrozenThreshold> compute, CancellationToken ct);
}

/// <summary>An in-process <see cref="IGapSketchStore"/> (the `sequence stats` path and tests).</summary>
public sealed class InMemoryGapSketchStore(SequenceDetectorOptions options) : IGapSketchStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Domain, int Partition), long[]> _contributions = [];
    private readonly Dictionary<(string Domain, long Epoch), FrozenThreshold> _frozen = [];

    public Task PublishAsync(int partition, string domain, long[] counts, CancellationToken ct)
    {
        lock (_gate) _contributions[(domain, partition)] = counts;
        return Task.CompletedTask;
    }

    public Task<FrozenThreshold> FreezeAsync(string domain, long epoch, Func<GapQuantileSketch, FrozenThreshold> compute, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_frozen.TryGetValue((domain, epoch), out var frozen))
            {
                var merged = new GapQuantileSketch(options.SketchRelativeAccuracy, long.MaxValue);
                foreach (var ((d, _), counts) in _contributions.OrderBy(kv => kv.Key.Partition))
                    if (string.Equals(d, domain, StringComparison.Ordinal)) merged.Merge(counts);
                _frozen[(domain, epoch)] = frozen = compute(merged);
            }
            return Task.FromResult(frozen);
        }
    }
}

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
