using System.Collections.Concurrent;
using Npgsql;

namespace ReaSeq.Processors.Sequence.Streaming;

/// <summary>
/// The primary category of an item, for the CD rule: the click's own context["category"] when the producer sent one,
/// else the item's category path in the catalog, else the category the knowledge processor assigned. Looked up once
/// per batch for all unknown items; a category is remembered once found. Items the catalog does not know yet stay
/// unknown (CD makes no decision for them) and are asked for again in a later batch.
/// </summary>
public sealed class ItemCategoryResolver(NpgsqlDataSource db)
{
    private readonly ConcurrentDictionary<string, string> _known = new(StringComparer.Ordinal);

    public async Task PrefetchAsync(IEnumerable<string> itemIds, CancellationToken ct)
    {
        var missing = itemIds.Where(id => !_known.ContainsKey(id)).Distinct().ToArray();
        if (missing.Length == 0) return;
        await using var cmd = db.CreateCommand(
            "select i.item_id, coalesce(nullif(i.category_path[1], ''), k.category, '') from unnest($1::text[]) q(item_id) " +
            "left join items i on i.item_id = q.item_id left join item_knowledge k on k.item_id = q.item_id where i.item_id is not null or k.item_id is not null");
        cmd.Parameters.AddWithValue(missing);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            if (!reader.IsDBNull(0) && reader.GetString(1) is { Length: > 0 } category) _known[reader.GetString(0)] = category;
    }

    public string? Resolve(string itemId, IReadOnlyDictionary<string, string> context) =>
        context.TryGetValue("category", out var fromClick) && fromClick.Length > 0 ? fromClick : _known.GetValueOrDefault(itemId);
}
