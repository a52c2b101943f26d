using System.Collections.Concurrent;
using ReaSeq.Api.Features;
using ReaSeq.Models.Ctr;

namespace ReaSeq.Api.Scoring;

/// <summary>
/// The model's user step (<see cref="CtrUserState"/>: history projections, the compression pathway's anchors over the
/// full sequence, the GSU's unit vectors, user features) cached per user, so a request of a known user runs only the
/// candidate step (paper §2.2.1 "System Deployment": user-side work, and the anchors, once per user).
/// <para>
/// An entry is valid for one <see cref="UserFeatures"/> instance (the feature cache's entry: a SequenceUpdate or
/// AugmentedSequence invalidates it there, and a re-read after Api:Cache:MaxAgeMs makes a new instance, so the state
/// follows the user's feature version) and one model version (a swap makes every entry stale). States are reference
/// counted: an entry replaced or evicted while a request still scores with it is freed when that request ends.
/// </para>
/// </summary>
public sealed class UserStateCache(ApiOptions options)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly int _capacity = options.Cache.MaxUserStates;
    private long _hits;
    private long _misses;

    public int Count => _entries.Count;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The cached state for exactly these features and this model version, retained for the caller; null otherwise.</summary>
    public Entry? TryAcquire(UserFeatures features, string modelVersion)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (_entries.TryGetValue(features.UserId, out var entry) && ReferenceEquals(entry.Source, features)
            && entry.ModelVersion == modelVersion && entry.TryRetain())
        {
            entry.LastUsedMs = Environment.TickCount64;
            Interlocked.Increment(ref _hits);
            return entry;
        }
        Interlocked.Increment(ref _misses);
        return null;
    }

    /// <summary>The model input the cached state was encoded from, when it is current for these features and model version.</summary>
    public CtrUserFeatures? FeaturesOf(UserFeatures features, string modelVersion)
    {
        ArgumentNullException.ThrowIfNull(features);
        return _entries.TryGetValue(features.UserId, out var entry) && ReferenceEquals(entry.Source, features) && entry.ModelVersion == modelVersion
            ? entry.Features
            : null;
    }

    /// <summary>Caches a freshly encoded state (replacing the user's older one) and returns it retained for the caller.</summary>
    public Entry Add(UserFeatures source, string modelVersion, CtrUserFeatures features, CtrUserState state)
    {
        var entry = new Entry(source, modelVersion, features, state);
        if (_capacity == 0) return entry; // the caller's reference is the only one
        entry.TryRetain();
        if (_entries.Count >= _capacity) Shrink();
        while (true)
        {
            if (_entries.TryGetValue(source.UserId, out var old))
            {
                if (_entries.TryUpdate(source.UserId, entry, old))
                {
                    old.Release();
                    return entry;
                }
            }
            else if (_entries.TryAdd(source.UserId, entry))
            {
                return entry;
            }
        }
    }

    /// <summary>The <paramref name="count"/> most recently used entries (a snapshot; not retained for the caller).</summary>
    public IReadOnlyList<Entry> MostRecent(int count) =>
        count <= 0 ? [] : [.. _entries.Values.OrderByDescending(e => e.LastUsedMs).Take(count)];

    /// <summary>Drops a user's state (its features changed).</summary>
    public void Invalidate(string userId)
    {
        if (_entries.TryRemove(userId, out var old)) old.Release();
    }

    public void Clear()
    {
        foreach (var key in _entries.Keys) Invalidate(key);
    }

    /// <summary>Drops about a tenth of the entries, least recently used first.</summary>
    private void Shrink()
    {
        var drop = Math.Max(1, _capacity / 10);
        foreach (var (key, entry) in _entries.OrderBy(e => e.Value.LastUsedMs).Take(drop).ToList())
        {
            if (_entries.TryRemove(new KeyValuePair<string, Entry>(key, entry))) entry.Release();
        }
    }

    /// <summary>One user's encoded state; <see cref="Release"/> it when the request is done.</summary>
    public sealed class Entry
    {
        private int _references = 1;

        internal Entry(UserFeatures source, string modelVersion, CtrUserFeatures features, CtrUserState state)
        {
            Source = source;
            ModelVersion = modelVersion;
            Features = features;
            State = state;
            LastUsedMs = Environment.TickCount64;
        }

        public UserFeatures Source { get; }

        public string ModelVersion { get; }

        /// <summary>The model's user-side input the state was encoded from.</summary>
        public CtrUserFeatures Features { get; }

        public CtrUserState State { get; }

        internal long LastUsedMs { get; set; }

        internal bool TryRetain()
        {
            while (true)
            {
                var current = Volatile.Read(ref _references);
                if (current == 0) return false;
                if (Interlocked.CompareExchange(ref _references, current + 1, current) == current) return true;
            }
        }

        /// <summary>Drops a reference; the last one frees the state's tensors.</summary>
        public void Release()
        {
            if (Interlocked.Decrement(ref _references) == 0) State.Dispose();
        }
    }
}
