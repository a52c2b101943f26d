using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// Layers 1-2 and classification read the catalog the ingest role maintains (table <c>items</c>), plus an overlay
/// of items this processor has seen but the catalog may not have yet (the ingest role can lag behind), so a
/// category's first batch already has items to build its taxonomy from. Samples are deterministic: ordered by
/// md5(item_id), computed the same way in SQL and here.
/// </summary>
public sealed class PostgresCategoryCorpus(NpgsqlDataSource db, int maxOverlayItems = 100_000, PostgresQueryStore? queries = null) : ICategoryCorpusSource
{
    private readonly ConcurrentDictionary<string, KnowledgeItem> _overlay = new(StringComparer.Ordinal);

    /// <summary>Adds or replaces items in the overlay; the overlay is cleared when it outgrows its bound.</summary>
    public void Upsert(IEnumerable<KnowledgeItem> items)
    {
        foreach (var item in items)
        {
            if (item.CategoryPath.IsEmpty) continue;
            if (_overlay.Count >= maxOverlayItems) _overlay.Clear(); // by then the catalog has long caught up
            _overlay[item.ItemId] = item;
        }
    }

    public void Remove(string itemId) => _overlay.TryRemove(itemId, out _);

    public async Task<IReadOnlyList<CategoryPath>> ListCategoriesAsync(CancellationToken cancellationToken)
    {
        var paths = new HashSet<CategoryPath>();
        void AddAll(CategoryPath path)
        {
            for (int depth = 1; depth <= path.Depth; depth++) paths.Add(path.Prefix(depth));
        }
        await using (var cmd = db.CreateCommand("select distinct category_path from items where not deleted and cardinality(category_path) > 0"))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var segments = reader.GetFieldValue<string[]>(0);
                if (segments.All(s => !string.IsNullOrWhiteSpace(s))) AddAll(CategoryPath.Of(segments));
            }
        }
        foreach (var item in _overlay.Values) AddAll(item.CategoryPath);
        return paths.OrderBy(p => p.ToString(), StringComparer.Ordinal).ToArray();
    }

    public async Task<CategoryCorpus> GetCorpusAsync(CategoryPath category, int maxItems, CancellationToken cancellationToken)
    {
        var items = new Dictionary<string, KnowledgeItem>(StringComparer.Ordinal);
        await using (var cmd = db.CreateCommand(
            "select item_id, title, description, category_path, attributes::text from items " +
            "where not deleted and cardinality(category_path) >= $2 and category_path[1:$2] = $1 " +
            "order by md5(item_id), item_id limit $3"))
        {
            cmd.Parameters.AddWithValue(category.Segments.ToArray());
            cmd.Parameters.AddWithValue(category.Depth);
            cmd.Parameters.AddWithValue(maxItems);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var segments = reader.GetFieldValue<string[]>(3);
                if (segments.Any(string.IsNullOrWhiteSpace)) continue;
                var attributes = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(4)) ?? [];
                var item = new KnowledgeItem(reader.GetString(0), reader.GetString(1), reader.GetString(2), segments, attributes);
                items[item.ItemId] = item;
            }
        }
        // The overlay holds the newest version of an item this processor saw; it wins over the catalog's row.
        foreach (var item in _overlay.Values)
            if (item.CategoryPath.StartsWith(category)) items[item.ItemId] = item;

        var sample = items.Values.OrderBy(i => SampleKey(i.ItemId), StringComparer.Ordinal).ThenBy(i => i.ItemId, StringComparer.Ordinal)
            .Take(maxItems).ToArray();
        // The primary category's recency-weighted search queries; without any, the demand agent builds from titles (its
        // documented fallback).
        var recent = queries is null || category.IsEmpty ? [] : await queries.TopQueriesAsync(category.Segments[0], cancellationToken);
        return new CategoryCorpus(category, recent, sample);
    }

    /// <summary>The catalog's count, or the overlay's when the catalog lags behind this processor.</summary>
    public async Task<int> CountItemsAsync(CategoryPath category, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(
            "select count(*) from items where not deleted and cardinality(category_path) >= $2 and category_path[1:$2] = $1");
        cmd.Parameters.AddWithValue(category.Segments.ToArray());
        cmd.Parameters.AddWithValue(category.Depth);
        long catalog = (long)(await cmd.ExecuteScalarAsync(cancellationToken))!;
        int overlay = _overlay.Values.Count(i => i.CategoryPath.StartsWith(category));
        return (int)Math.Max(catalog, overlay);
    }

    private static string SampleKey(string itemId) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(itemId)));
}
