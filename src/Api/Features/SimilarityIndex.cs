using Microsoft.Extensions.Logging;
using ReaSeq.Contracts.Stores;
using ReaSeq.Processors.VectorStores;

namespace ReaSeq.Api.Features;

/// <summary>
/// The API's own in-memory copy of the knowledge vectors (the embedded vector index, exact cosine search) for
/// /v1/items/{id}/similar: loaded from item_knowledge at start and kept current from reaseq.item-knowledge, so the api
/// role needs neither the knowledge role's index file nor a process of its own per replica.
/// </summary>
public sealed class SimilarityIndex(ILogger<SimilarityIndex> logger) : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private EmbeddedVectorIndex? _index;

    /// <summary>True once the initial load from PostgreSQL finished.</summary>
    public bool Ready => _loaded.Task.IsCompleted;

    public Task WhenReady => _loaded.Task;

    public async Task LoadAsync(FeatureStore store, CancellationToken ct)
    {
        var page = new List<VectorPoint>(1_000);
        long count = 0;
        await foreach (var (id, vector, category) in store.ReadVectorsAsync(ct))
        {
            page.Add(Point(id, vector, category));
            if (page.Count == 1_000)
            {
                await UpsertAsync(page, ct);
                count += page.Count;
                page.Clear();
            }
        }
        await UpsertAsync(page, ct);
        count += page.Count;
        logger.LogInformation("api: similarity index loaded {Count} item vectors", count);
        _loaded.TrySetResult();
    }

    public Task UpsertAsync(string itemId, float[] vector, string category, CancellationToken ct) =>
        UpsertAsync([Point(itemId, vector, category)], ct);

    /// <summary>The k items closest to the item's knowledge vector (itself excluded), or null when the item has none.</summary>
    public async Task<IReadOnlyList<VectorHit>?> SimilarAsync(string itemId, int k, CancellationToken ct)
    {
        var index = Volatile.Read(ref _index);
        if (index is null) return null;
        var point = await index.GetAsync(itemId, ct);
        if (point is null) return null;
        var hits = await index.SearchAsync(point.Vector, k + 1, null, ct);
        return hits.Where(h => h.Id != itemId).Take(k).ToList();
    }

    private async Task UpsertAsync(IReadOnlyList<VectorPoint> points, CancellationToken ct)
    {
        if (points.Count == 0) return;
        var index = Volatile.Read(ref _index);
        if (index is null)
        {
            lock (_gate)
            {
                _index ??= new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions { Dimension = points[0].Vector.Length, Path = null });
                index = _index;
            }
        }
        // Vectors of another length (an encoder change mid-flight) cannot share the index: skip them, loudly.
        var fitting = points.Where(p => p.Vector.Length == index.Dimension && p.Vector.Any(v => v != 0)).ToList();
        if (fitting.Count < points.Count)
            logger.LogWarning("api: {Count} item vectors skipped by the similarity index (zero, or not {Dimension}-dimensional)", points.Count - fitting.Count, index.Dimension);
        if (fitting.Count > 0) await index.UpsertAsync(fitting, ct);
    }

    private static VectorPoint Point(string id, float[] vector, string category) =>
        new(id, vector, new Dictionary<string, string> { ["category"] = category });

    public async ValueTask DisposeAsync()
    {
        if (_index is not null) await _index.DisposeAsync();
    }
}
