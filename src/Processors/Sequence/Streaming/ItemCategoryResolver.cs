using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace ReaSeq.Processors.Sequence.Streaming;

/// <summary>
/// The primary category of an item, for the CD rule: the click's own context["category"] when the producer sent one,
/// else the item's category path in the catalog, else the category the knowledge processor assigned.
/// Item updates and clicks are consumed by different roles, so a click may overtake its item's update. Before
/// deciding, a batch waits (bounded by <see cref="SequenceProcessorOptions.CatalogWaitMs"/>) for items the catalog
/// does not know yet; items still unknown after that are remembered as unknown for a while so they do not stall
/// every batch. Unknown categories make no CD decision.
/// </summary>
public sealed class ItemCategoryResolver(NpgsqlDataSource db, SequenceProcessorOptions options)
{
    private static readonly TimeSpan UnknownRetention = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, string> _known = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _unknownSince = new(StringComparer.Ordinal);

    public async Task PrefetchAsync(IEnumerable<string> itemIds, CancellationToken ct)
    {
        var now = Stopwatch.GetTimestamp();
        var missing = itemIds.Where(id => !_known.ContainsKey(id) &&
                !(_unknownSince.TryGetValue(id, out var since) && Stopwatch.GetElapsedTime(since, now) < UnknownRetention))
            .Distinct().ToList();
        var waited = Stopwatch.StartNew();
        while (missing.Count > 0)
        {
            await LookUpAsync(missing, ct);
            missing.RemoveAll(_known.ContainsKey);
            if (missing.Count == 0 || waited.ElapsedMilliseconds >= options.CatalogWaitMs) break;
            await Task.Delay(50, ct);
        }
        foreach (var id in missing) _unknownSince[id] = now;
    }

    public string? Resolve(string itemId, IReadOnlyDictionary<string, string> context) =>
        context.TryGetValue("category", out var fromClick) && fromClick.Length > 0 ? fromClick : _known.GetValueOrDefault(itemId);

    private async Task LookUpAsync(IReadOnlyList<string> itemIds, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select q.item_id, coalesce(nullif(i.category_path[1], ''), k.category, '') from unnest($1::text[]) q(item_id) " +
            "left join items i on i.item_id = q.item_id left join item_knowledge k on k.item_id = q.item_id where i.item_id is not null or k.item_id is not null");
        cmd.Parameters.AddWithValue(itemIds.ToArray());
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (reader.GetString(1) is { Length: > 0 } category)
            {
                _known[reader.GetString(0)] = category;
                _unknownSince.TryRemove(reader.GetString(0), out _);
            }
        }
    }
}
