namespace ReaSeq.Api.Features;

/// <summary>
/// The score path's features: cached user and item features in front of <see cref="FeatureStore"/>, invalidated by
/// the feature topics (<see cref="FeatureTopicListener"/>) and bounded in age by Api:Cache:MaxAgeMs.
/// </summary>
public sealed class FeatureCache(FeatureStore store, ApiOptions options)
{
    public VersionedCache<UserFeatures> Users { get; } = new(options.Cache.MaxUsers, options.Cache.MaxAgeMs, u => u.Version, u => u.LoadedAtMs);

    public VersionedCache<ItemFeatures> Items { get; } = new(options.Cache.MaxItems, options.Cache.MaxAgeMs, i => i.KnowledgeTsMs, i => i.LoadedAtMs);

    public async ValueTask<UserFeatures> GetUserAsync(string userId, CancellationToken ct)
    {
        if (Users.TryGet(userId, out var cached)) return cached;
        var loaded = await store.LoadUserAsync(userId, ct);
        Users.Offer(userId, loaded);
        return loaded;
    }

    /// <summary>Features of every id (in order); the missing ones are read from PostgreSQL in one query.</summary>
    public async ValueTask<ItemFeatures[]> GetItemsAsync(IReadOnlyList<string> itemIds, CancellationToken ct)
    {
        var result = new ItemFeatures[itemIds.Count];
        List<int>? missing = null;
        for (var i = 0; i < itemIds.Count; i++)
        {
            if (Items.TryGet(itemIds[i], out var cached)) result[i] = cached;
            else (missing ??= []).Add(i);
        }
        if (missing is null) return result;
        var loaded = await store.LoadItemsAsync(missing.Select(i => itemIds[i]).Distinct(StringComparer.Ordinal).ToList(), ct);
        var byId = loaded.ToDictionary(f => f.ItemId, StringComparer.Ordinal);
        foreach (var f in loaded) Items.Offer(f.ItemId, f);
        foreach (var i in missing) result[i] = byId[itemIds[i]];
        return result;
    }
}
