using Npgsql;
using ReaSeq.Contracts.Stores;

namespace ReaSeq.Processors.Dllm;

/// <summary>
/// The item vector join of the dllm role (paper §3.2.2: frozen item knowledge vectors): vectors come from the
/// <see cref="IVectorStore"/> the knowledge role writes.
/// When the role owns its store (no knowledge role in the process), that store is an in-memory index loaded from the
/// knowledge role's committed item_knowledge rows and synchronised every few seconds, so nearest-item searches see
/// every item the knowledge role has committed. Vectors are returned at unit length.
/// </summary>
public sealed class ItemVectors(IVectorStore store, NpgsqlDataSource db, bool ownsStore, int syncIntervalMs = 5_000) : IAsyncDisposable
{
    private readonly SemaphoreSlim _sync = new(1, 1);
    private DateTime _syncedUpTo = DateTime.UnixEpoch;
    private long _lastSyncMs = long.MinValue;

    public IVectorStore Store => store;

    public int Dimension => store.Dimension;

    /// <summary>Whether this role built the store itself (and so keeps it in sync with item_knowledge).</summary>
    public bool OwnsStore => ownsStore;

    /// <summary>
    /// Vectors of the known items among <paramref name="ids"/>; unknown ids are absent from the result. Every vector
    /// is read from the store (an own store first takes in the missing ids' committed rows), so an item's vector, and
    /// with it a fill, does not depend on which path found it.
    /// </summary>
    public async Task<Dictionary<string, float[]>> GetAsync(IEnumerable<string> ids, CancellationToken ct)
    {
        var found = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            if (await store.GetAsync(id, ct) is { } point) found[id] = Unit(point.Vector);
            else missing.Add(id);
        }
        if (missing.Count == 0 || !ownsStore) return found;
        await using var cmd = db.CreateCommand("select item_id, vector, category from item_knowledge where item_id = any($1)");
        cmd.Parameters.AddWithValue(missing.ToArray());
        var points = new List<VectorPoint>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var vector = reader.GetFieldValue<float[]>(1);
                if (vector.Length == store.Dimension && IsUsable(vector)) points.Add(Point(reader.GetString(0), vector, reader.GetString(2)));
            }
        }
        if (points.Count == 0) return found;
        await store.UpsertAsync(points, ct);
        foreach (var p in points)
            if (await store.GetAsync(p.Id, ct) is { } point) found[p.Id] = Unit(point.Vector);
        return found;
    }

    /// <summary>
    /// For an own store: takes in the item_knowledge rows written since the last look (all of them the first time),
    /// at most every sync interval unless <paramref name="force"/>. Nothing to do for a shared store.
    /// </summary>
    public async Task SyncAsync(bool force, CancellationToken ct)
    {
        if (!ownsStore) return;
        long now = Environment.TickCount64;
        // The first look always happens: `now - long.MinValue` wraps to a negative number, which once skipped every
        // unforced sync for good, so the index held only the items of the windows filled so far, and a fill's nearest
        // items depended on which batches the process had seen since its start (a replay after a crash differed).
        if (!force && _lastSyncMs != long.MinValue && now - _lastSyncMs < syncIntervalMs) return;
        await _sync.WaitAsync(ct);
        try
        {
            _lastSyncMs = now;
            await using var cmd = db.CreateCommand(
                "select item_id, vector, category, updated_at from item_knowledge where updated_at >= $1 order by updated_at");
            cmd.Parameters.AddWithValue(_syncedUpTo);
            var page = new List<VectorPoint>(1_000);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var vector = reader.GetFieldValue<float[]>(1);
                var updated = reader.GetDateTime(3);
                if (updated > _syncedUpTo) _syncedUpTo = updated;
                if (vector.Length != store.Dimension || !IsUsable(vector)) continue;
                page.Add(Point(reader.GetString(0), vector, reader.GetString(2)));
                if (page.Count == 1_000) { await store.UpsertAsync(page, ct); page.Clear(); }
            }
            if (page.Count > 0) await store.UpsertAsync(page, ct);
        }
        finally
        {
            _sync.Release();
        }
    }

    private static VectorPoint Point(string id, float[] vector, string category) =>
        new(id, vector, new Dictionary<string, string> { ["item_id"] = id, ["category"] = category });

    private static bool IsUsable(float[] vector) => vector.All(float.IsFinite) && vector.Any(v => v != 0);

    private static float[] Unit(float[] vector)
    {
        double norm = Math.Sqrt(vector.Sum(v => (double)v * v));
        return vector.Select(v => (float)(v / norm)).ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        _sync.Dispose();
        if (ownsStore) await store.DisposeAsync();
    }
}
