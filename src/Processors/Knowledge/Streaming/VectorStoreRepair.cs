using Microsoft.Extensions.Logging;
using ReaSeq.Contracts.Stores;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// Brings the vector store back in line with PostgreSQL (the source of truth) when the knowledge role starts. The
/// embedded index writes its file periodically, so a crash can leave it behind: points missing, points holding an
/// older vector, points of items deleted since. Counts alone cannot tell (a lost upsert and a lost delete cancel out,
/// and a changed vector changes no count), so every row's point is compared by its vector hash and rewritten when it
/// differs, and the point of every deleted item (a tombstone row) is removed, never re-created (issue 8 D14).
/// </summary>
public sealed class VectorStoreRepair(PostgresKnowledgeStore store, IVectorStore vectors, ILogger logger)
{
    private const int Page = 1_000;

    /// <summary>Returns the number of points rewritten and removed.</summary>
    public async Task<(long Rewritten, long Removed)> RunAsync(CancellationToken ct)
    {
        long rewritten = 0;
        var page = new List<VectorPoint>(Page);
        await foreach (var row in store.ReadAllAsync(ct))
        {
            var point = KnowledgeProcessor.ToPoint(row);
            var stored = await vectors.GetAsync(row.ItemId, ct);
            if (stored is not null && stored.Payload.TryGetValue(KnowledgeProcessor.VectorHashKey, out var hash)
                && hash == point.Payload[KnowledgeProcessor.VectorHashKey])
            {
                continue;
            }
            page.Add(point);
            if (page.Count == Page)
            {
                await vectors.UpsertAsync(page, ct);
                rewritten += page.Count;
                page.Clear();
            }
        }
        if (page.Count > 0)
        {
            await vectors.UpsertAsync(page, ct);
            rewritten += page.Count;
        }

        long removed = 0;
        foreach (var chunk in (await store.TombstonesAsync(ct)).Chunk(Page))
        {
            var present = new List<string>();
            foreach (var id in chunk)
                if (await vectors.GetAsync(id, ct) is not null) present.Add(id);
            if (present.Count == 0) continue;
            await vectors.DeleteAsync(present, ct);
            removed += present.Count;
        }
        if (rewritten > 0 || removed > 0)
        {
            logger.LogInformation("knowledge: vector store repaired from PostgreSQL: {Rewritten} points rewritten, {Removed} points of deleted items removed",
                rewritten, removed);
        }
        return (rewritten, removed);
    }
}
