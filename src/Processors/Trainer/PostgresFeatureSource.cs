using System.Collections.Concurrent;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Models.Ctr;

namespace ReaSeq.Processors.Trainer;

/// <summary>
/// Point-in-time features from the platform's PostgreSQL state: user_clicks (ingest), items (catalog), item_knowledge
/// (knowledge vectors and semantic ids) and ctr_augmented_sequences (GBR fills). A batch costs four queries; every
/// row is filtered by the impression's time in <see cref="PointInTimeFeatures"/>. Item features are cached (one
/// float[] per item, so a batch's items are de-duplicated by reference) until <see cref="ClearCache"/>.
/// </summary>
public sealed class PostgresFeatureSource(NpgsqlDataSource db, TrainerOptions options)
{
    private readonly ConcurrentDictionary<string, ItemFeatures?> _items = new(StringComparer.Ordinal);

    /// <summary>Forgets cached item features (new knowledge vectors, semantic ids and catalog entries are read again).</summary>
    public void ClearCache() => _items.Clear();

    public async Task<FeatureBatch> BuildAsync(IReadOnlyList<LabeledImpression> impressions, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(impressions);
        if (impressions.Count == 0) return new FeatureBatch([], new HashSet<string>(), new HashSet<string>());
        long latest = impressions.Max(i => i.TsMs);
        var users = impressions.Select(i => i.UserId).Distinct(StringComparer.Ordinal).ToArray();
        var clicks = await ClicksAsync(users, latest, ct);
        var augmented = options.UseAugmentedSequences ? await AugmentedAsync(users, latest, ct) : [];
        var needed = impressions.Select(i => i.ItemId)
            .Concat(clicks.Values.SelectMany(c => c.TakeLast(options.Model.MaxHistory).Select(x => x.ItemId)));
        await LoadItemsAsync(needed, ct);
        var popularity = await PopularityAsync(impressions, ct);

        var examples = new List<CtrExample>(impressions.Count);
        var sidVersions = new HashSet<string>(StringComparer.Ordinal);
        var dllmVersions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var impression in impressions)
        {
            var userClicks = clicks.GetValueOrDefault(impression.UserId) ?? [];
            var userAugmented = augmented.GetValueOrDefault(impression.UserId);
            var example = PointInTimeFeatures.Build(impression, userClicks, userAugmented, Item,
                popularity.GetValueOrDefault((impression.ItemId, impression.TsMs)), options.Model.MaxHistory);
            examples.Add(example);
            if (userAugmented?.Where(a => a.TsMs < impression.TsMs).MaxBy(a => a.TsMs) is { } used) dllmVersions.Add(used.ModelVersion);
        }
        foreach (var features in _items.Values)
        {
            if (features?.SemanticIdVersion is { Length: > 0 } version) sidVersions.Add(version);
        }
        return new FeatureBatch(examples, sidVersions, dllmVersions);
    }

    private ItemFeatures? Item(string itemId) => _items.GetValueOrDefault(itemId);

    private async Task<Dictionary<string, List<UserClick>>> ClicksAsync(string[] users, long before, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select user_id, item_id, ts_ms from user_clicks where user_id = any($1) and ts_ms < $2 order by user_id, seq");
        cmd.Parameters.AddWithValue(users);
        cmd.Parameters.AddWithValue(before);
        var result = new Dictionary<string, List<UserClick>>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            string user = reader.GetString(0);
            if (!result.TryGetValue(user, out var list)) result[user] = list = [];
            list.Add(new UserClick(reader.GetString(1), reader.GetInt64(2)));
        }
        return result;
    }

    /// <summary>
    /// Deletes the augmented sequences no impression at or after <paramref name="cutoffMs"/> can use: a row is kept
    /// while it is newer than the cutoff or is its user's newest row before it (the one a point-in-time join at the
    /// cutoff picks), so a user whose last fill is old keeps it. Returns the rows deleted.
    /// </summary>
    public async Task<int> PruneAugmentedAsync(long cutoffMs, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "delete from ctr_augmented_sequences a where a.ts_ms < $1 and exists (select 1 from ctr_augmented_sequences b " +
            "where b.user_id = a.user_id and b.ts_ms > a.ts_ms and b.ts_ms < $1)");
        cmd.Parameters.AddWithValue(cutoffMs);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<Dictionary<string, List<AugmentedRecord>>> AugmentedAsync(string[] users, long before, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select user_id, ts_ms, model_version, observed, fill_positions, fill_vectors from ctr_augmented_sequences " +
            "where user_id = any($1) and ts_ms < $2 order by user_id, ts_ms");
        cmd.Parameters.AddWithValue(users);
        cmd.Parameters.AddWithValue(before);
        var result = new Dictionary<string, List<AugmentedRecord>>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            string user = reader.GetString(0);
            var positions = reader.GetFieldValue<int[]>(4);
            var vectors = reader.GetFieldValue<float[]>(5);
            int width = positions.Length == 0 ? 0 : vectors.Length / positions.Length;
            var fills = positions.Select((p, i) => new CtrFill(p, vectors.AsSpan(i * width, width).ToArray())).ToList();
            if (!result.TryGetValue(user, out var list)) result[user] = list = [];
            list.Add(new AugmentedRecord(reader.GetInt64(1), reader.GetString(2), reader.GetFieldValue<string[]>(3), fills));
        }
        return result;
    }

    private async Task LoadItemsAsync(IEnumerable<string> itemIds, CancellationToken ct)
    {
        // Unknown items and items without a vector yet are looked up again: the knowledge role may have caught up.
        var missing = itemIds.Where(id => !_items.TryGetValue(id, out var known) || known?.Vector is null)
            .Distinct(StringComparer.Ordinal).ToArray();
        if (missing.Length == 0) return;
        await using var cmd = db.CreateCommand(
            "select u.item_id, i.category_path, i.price, i.ts_ms, k.vector, k.semantic_id, k.semantic_id_version, k.ts_ms " +
            "from unnest($1::text[]) u(item_id) left join items i on i.item_id = u.item_id " +
            "left join item_knowledge k on k.item_id = u.item_id");
        cmd.Parameters.AddWithValue(missing);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            string id = reader.GetString(0);
            bool inCatalog = !reader.IsDBNull(3);
            bool hasKnowledge = !reader.IsDBNull(7);
            if (!inCatalog && !hasKnowledge)
            {
                _items[id] = null;
                continue;
            }
            // A vector of another width (another encoder) is no feature of this model.
            var vector = hasKnowledge ? reader.GetFieldValue<float[]>(4) : null;
            if (vector is not null && vector.Length != options.Model.ItemVectorDim) vector = null;
            _items[id] = new ItemFeatures(
                id,
                vector,
                hasKnowledge ? reader.GetFieldValue<int[]>(5) : null,
                hasKnowledge ? reader.GetString(6) : null,
                hasKnowledge ? reader.GetInt64(7) : long.MaxValue,
                inCatalog ? CtrBuckets.CategoryBucket(reader.GetFieldValue<string[]>(1)) : 0,
                inCatalog ? CtrBuckets.PriceBucket(reader.IsDBNull(2) ? null : reader.GetDouble(2)) : 0,
                inCatalog ? reader.GetInt64(3) : long.MaxValue);
        }
    }

    /// <summary>Clicks each (item, time) received strictly before the time (index user_clicks_item_ts).</summary>
    private async Task<Dictionary<(string, long), long>> PopularityAsync(IReadOnlyList<LabeledImpression> impressions, CancellationToken ct)
    {
        var pairs = impressions.Select(i => (i.ItemId, i.TsMs)).Distinct().ToArray();
        await using var cmd = db.CreateCommand(
            "select p.item_id, p.ts, (select count(*) from user_clicks c where c.item_id = p.item_id and c.ts_ms < p.ts) " +
            "from unnest($1::text[], $2::bigint[]) p(item_id, ts)");
        cmd.Parameters.AddWithValue(pairs.Select(p => p.ItemId).ToArray());
        cmd.Parameters.AddWithValue(pairs.Select(p => p.TsMs).ToArray());
        var result = new Dictionary<(string, long), long>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) result[(reader.GetString(0), reader.GetInt64(1))] = reader.GetInt64(2);
        return result;
    }
}
