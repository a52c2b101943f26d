namespace ReaSeq.Processors.Sequence;

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
