using System.Collections.Concurrent;

namespace ReaSeq.Api.Features;

/// <summary>
/// A bounded in-process cache whose entries carry the version of the state they were read from. A feature topic record
/// announces a version (<see cref="Invalidate"/>): the entry is dropped, and until a read from PostgreSQL reaches that
/// version nothing older is cached again. This closes the race in which the announcement overtakes the writer's commit
/// (the knowledge role publishes before it commits) and a read in between would re-cache the old state. Entries older
/// than the maximum age are re-read, which bounds staleness for changes no topic announces. Past half that age an entry
/// is still served but due for a re-read (<see cref="TryGet(string, out TValue, out bool)"/>): the owner reads it again
/// in the background, so a key in use is replaced before it expires and no request waits for the re-read (it was the
/// score path's p99: every user and item of a busy ranker expired every MaxAgeMs, and the request that found it expired
/// read PostgreSQL). A re-read of the same version goes through <c>reuse</c>: the cached instance stays when nothing
/// changed (per-user model states are keyed on it, and a new instance every few seconds also made the collector copy
/// every user's and item's arrays into its oldest generation).
/// </summary>
public sealed class VersionedCache<TValue>(int capacity, long maxAgeMs, Func<TValue, long> versionOf, Func<TValue, long> loadedAtOf,
    Func<TValue, TValue, TValue>? reuse = null)
    where TValue : class
{
    /// <summary>A cached value and when it was last read (a reused value keeps its instance and gets the new time).</summary>
    private sealed record Slot(TValue Value, long LoadedAtMs);

    private readonly ConcurrentDictionary<string, Slot> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _required = new(StringComparer.Ordinal);
    private long _hits;
    private long _misses;

    public int Count => _entries.Count;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The cached value when present and younger than the maximum age.</summary>
    public bool TryGet(string key, out TValue value) => TryGet(key, out value, out _);

    /// <summary>
    /// As <see cref="TryGet(string, out TValue)"/>; <paramref name="refreshDue"/> when the value is past half the maximum
    /// age: the owner reads it again (off the request) and offers the result.
    /// </summary>
    public bool TryGet(string key, out TValue value, out bool refreshDue)
    {
        if (_entries.TryGetValue(key, out var found))
        {
            var age = Environment.TickCount64 - found.LoadedAtMs;
            if (age <= maxAgeMs)
            {
                Interlocked.Increment(ref _hits);
                value = found.Value;
                refreshDue = age > maxAgeMs / 2;
                return true;
            }
        }
        Interlocked.Increment(ref _misses);
        value = null!;
        refreshDue = false;
        return false;
    }

    /// <summary>
    /// Caches a freshly read value unless an announced newer version has not reached it yet, or a newer version is
    /// cached already (a background re-read that started before the newer one was read).
    /// </summary>
    public void Offer(string key, TValue value)
    {
        if (capacity == 0) return;
        var version = versionOf(value);
        if (_required.TryGetValue(key, out var required))
        {
            if (version < required) return;
            _required.TryRemove(new KeyValuePair<string, long>(key, required));
        }
        if (_entries.Count >= capacity) Shrink();
        var loadedAt = loadedAtOf(value);
        _entries.AddOrUpdate(key, new Slot(value, loadedAt), (_, cached) =>
        {
            var cachedVersion = versionOf(cached.Value);
            if (cachedVersion > version) return cached;
            return new Slot(cachedVersion == version && reuse is not null ? reuse(cached.Value, value) : value, Math.Max(loadedAt, cached.LoadedAtMs));
        });
        // An announcement that arrived while this value was stored wins.
        if (_required.TryGetValue(key, out var raced) && version < raced && _entries.TryGetValue(key, out var stored) && versionOf(stored.Value) < raced)
            _entries.TryRemove(KeyValuePair.Create(key, stored));
    }

    /// <summary>A topic announced version <paramref name="version"/> of the key's state: drop what is cached.</summary>
    public void Invalidate(string key, long version)
    {
        _required.AddOrUpdate(key, version, (_, old) => Math.Max(old, version));
        _entries.TryRemove(key, out _);
    }

    public void Clear()
    {
        _entries.Clear();
        _required.Clear();
    }

    /// <summary>Drops about a tenth of the entries, oldest reads first (approximate LRU at a bounded cost per overflow).</summary>
    private void Shrink()
    {
        var drop = Math.Max(1, capacity / 10);
        foreach (var (key, _) in _entries.OrderBy(e => e.Value.LoadedAtMs).Take(drop).ToList()) _entries.TryRemove(key, out _);
    }
}
