using System.Collections.Concurrent;

namespace ReaSeq.Api.Features;

/// <summary>
/// The score path's features: cached user and item features in front of <see cref="FeatureStore"/>, invalidated by
/// the feature topics (<see cref="FeatureTopicListener"/>) and bounded in age by Api:Cache:MaxAgeMs. Entries past half
/// that age are served and read again in the background (one read per key at a time), so keys in use never expire
/// under a request.
/// </summary>
public sealed class FeatureCache(FeatureStore store, ApiOptions options)
{
    private readonly ConcurrentDictionary<string, byte> _refreshingUsers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _refreshingItems = new(StringComparer.Ordinal);
    private long _refreshFailures;

    public VersionedCache<UserFeatures> Users { get; } = new(options.Cache.MaxUsers, options.Cache.MaxAgeMs, u => u.Version, u => u.LoadedAtMs,
        (cached, fresh) => SameUser(cached, fresh) ? cached : fresh);

    public VersionedCache<ItemFeatures> Items { get; } = new(options.Cache.MaxItems, options.Cache.MaxAgeMs, i => i.KnowledgeTsMs, i => i.LoadedAtMs,
        ReuseItem);

    /// <summary>Keys whose background re-read is under way.</summary>
    public int RefreshesInFlight => _refreshingUsers.Count + _refreshingItems.Count;

    /// <summary>Background re-reads that failed (the entry then expires and the next request reads it itself).</summary>
    public long RefreshFailures => Interlocked.Read(ref _refreshFailures);

    public async ValueTask<UserFeatures> GetUserAsync(string userId, CancellationToken ct)
    {
        if (Users.TryGet(userId, out var cached, out var refreshDue))
        {
            if (refreshDue && _refreshingUsers.TryAdd(userId, 0))
                RefreshInBackground(_refreshingUsers, [userId], async () => Users.Offer(userId, await store.LoadUserAsync(userId, CancellationToken.None)));
            return cached;
        }
        var loaded = await store.LoadUserAsync(userId, ct);
        Users.Offer(userId, loaded);
        return loaded;
    }

    /// <summary>Features of every id (in order); the missing ones are read from PostgreSQL in one query.</summary>
    public async ValueTask<ItemFeatures[]> GetItemsAsync(IReadOnlyList<string> itemIds, CancellationToken ct)
    {
        var result = new ItemFeatures[itemIds.Count];
        List<int>? missing = null;
        List<string>? due = null;
        for (var i = 0; i < itemIds.Count; i++)
        {
            if (Items.TryGet(itemIds[i], out var cached, out var refreshDue))
            {
                result[i] = cached;
                if (refreshDue && _refreshingItems.TryAdd(itemIds[i], 0)) (due ??= []).Add(itemIds[i]);
            }
            else
            {
                (missing ??= []).Add(i);
            }
        }
        if (due is not null)
        {
            RefreshInBackground(_refreshingItems, due, async () =>
            {
                foreach (var f in await store.LoadItemsAsync(due, CancellationToken.None)) Items.Offer(f.ItemId, f);
            });
        }
        if (missing is null) return result;
        var loaded = await store.LoadItemsAsync(missing.Select(i => itemIds[i]).Distinct(StringComparer.Ordinal).ToList(), ct);
        var byId = loaded.ToDictionary(f => f.ItemId, StringComparer.Ordinal);
        foreach (var f in loaded) Items.Offer(f.ItemId, f);
        foreach (var i in missing) result[i] = byId[itemIds[i]];
        return result;
    }

    /// <summary>A re-read of the same user state: the cached instance stays (the user's model state is keyed on it).</summary>
    private static bool SameUser(UserFeatures cached, UserFeatures fresh) =>
        cached.History.SequenceEqual(fresh.History, StringComparer.Ordinal) && cached.HistoryTsMs.SequenceEqual(fresh.HistoryTsMs)
        && cached.Sequence?.SequenceVersion == fresh.Sequence?.SequenceVersion && cached.Sequence?.TsMs == fresh.Sequence?.TsMs
        && cached.Augmented?.SequenceVersion == fresh.Augmented?.SequenceVersion && cached.Augmented?.TsMs == fresh.Augmented?.TsMs
        && cached.Augmented?.ModelVersion == fresh.Augmented?.ModelVersion;

    /// <summary>
    /// A re-read of the same knowledge version: the cached instance when nothing changed, else the fresh one sharing the
    /// cached vector and semantic id when those are equal (a catalog change or a click count moved).
    /// </summary>
    private static ItemFeatures ReuseItem(ItemFeatures cached, ItemFeatures fresh)
    {
        var sameKnowledge = Same(cached.Vector, fresh.Vector) && Same(cached.SemanticId, fresh.SemanticId);
        if (sameKnowledge && cached with { LoadedAtMs = fresh.LoadedAtMs, Vector = fresh.Vector, SemanticId = fresh.SemanticId } == fresh) return cached;
        return sameKnowledge ? fresh with { Vector = cached.Vector, SemanticId = cached.SemanticId } : fresh;
    }

    private static bool Same<T>(T[]? a, T[]? b) where T : IEquatable<T> => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    /// <summary>Runs <paramref name="read"/> off the request; the keys may be refreshed again once it ends.</summary>
    private void RefreshInBackground(ConcurrentDictionary<string, byte> refreshing, List<string> keys, Func<Task> read) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await read();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Not the request's problem: the entry stays until its maximum age, then a request reads it itself and
                // reports what fails.
                Interlocked.Increment(ref _refreshFailures);
            }
            finally
            {
                foreach (var key in keys) refreshing.TryRemove(key, out _);
            }
        });
}
