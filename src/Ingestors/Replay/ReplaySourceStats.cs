using System.Collections.Concurrent;
using System.Text;

namespace ReaSeq.Ingestors.Replay;

/// <summary>
/// What a replay read, emitted and skipped (per reason). Updated by the reading thread and readable from any
/// other thread (progress display), hence the interlocked counters.
/// </summary>
public sealed class ReplaySourceStats
{
    private long _read;
    private long _items;
    private long _clicks;
    private long _impressions;
    private readonly ConcurrentDictionary<string, long> _skipped = new(StringComparer.Ordinal);

    /// <summary>Input units consumed: CSV data rows, or generated events for a synthetic source.</summary>
    public long Read => Interlocked.Read(ref _read);
    public long ItemsEmitted => Interlocked.Read(ref _items);
    public long ClicksEmitted => Interlocked.Read(ref _clicks);
    public long ImpressionsEmitted => Interlocked.Read(ref _impressions);
    public long Emitted => ItemsEmitted + ClicksEmitted + ImpressionsEmitted;

    /// <summary>Input units not turned into a click, by reason (e.g. "cancellation", "missing_user", "off_platform").</summary>
    public IReadOnlyDictionary<string, long> Skipped =>
        new SortedDictionary<string, long>(_skipped.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);

    public long SkippedTotal => _skipped.Values.Sum();

    public long SkippedFor(string reason) => _skipped.TryGetValue(reason, out var n) ? n : 0;

    internal void Reset()
    {
        Interlocked.Exchange(ref _read, 0);
        Interlocked.Exchange(ref _items, 0);
        Interlocked.Exchange(ref _clicks, 0);
        Interlocked.Exchange(ref _impressions, 0);
        _skipped.Clear();
    }

    internal void CountRead() => Interlocked.Increment(ref _read);

    internal void CountSkip(string reason) => _skipped.AddOrUpdate(reason, 1, static (_, n) => n + 1);

    internal ReplayRecord Count(ReplayRecord record)
    {
        switch (record)
        {
            case ReplayItem: Interlocked.Increment(ref _items); break;
            case ReplayClick: Interlocked.Increment(ref _clicks); break;
            case ReplayImpression: Interlocked.Increment(ref _impressions); break;
        }
        return record;
    }

    public override string ToString()
    {
        var text = new StringBuilder()
            .Append($"read {Read:N0}, emitted {ItemsEmitted:N0} items, {ClicksEmitted:N0} clicks, {ImpressionsEmitted:N0} impressions");
        var skipped = Skipped;
        if (skipped.Count > 0)
            text.Append("; skipped ").AppendJoin(", ", skipped.Select(p => $"{p.Key} {p.Value:N0}"));
        return text.ToString();
    }
}
