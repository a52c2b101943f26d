using ReaSeq.Ingestors.Replay;

namespace ReaSeq.Tools.Eval;

/// <summary>An item of the pool: its latest title and (when the source has one) its first category level.</summary>
public sealed record EvalItem(string ItemId, string Title, string? Category);

/// <summary>One interaction; Basket groups items bought together (an invoice) for the co-occurrence baseline.</summary>
public sealed record EvalInteraction(string UserId, string ItemId, long TsMs, string Basket);

/// <summary>A user as the metric sees them: the click sequence before the split and the targets after it.</summary>
public sealed record EvalUser(string UserId, IReadOnlyList<string> History, IReadOnlyList<string> Targets);

/// <summary>Items and time-ordered interactions read once from a replay source (impressions are ignored).</summary>
public sealed class EvalDataset
{
    private EvalDataset(IReadOnlyList<EvalItem> items, IReadOnlyList<EvalInteraction> interactions)
    {
        Items = items;
        Interactions = interactions;
    }

    public IReadOnlyList<EvalItem> Items { get; }
    public IReadOnlyList<EvalInteraction> Interactions { get; }

    public static EvalDataset Load(IReplaySource source, CancellationToken ct)
    {
        var items = new Dictionary<string, EvalItem>(StringComparer.Ordinal);
        var interactions = new List<EvalInteraction>();
        foreach (var record in source.Read(ct))
        {
            switch (record)
            {
                case ReplayItem { Item: var item } when !string.IsNullOrWhiteSpace(item.Title):
                    items[item.ItemId] = new EvalItem(item.ItemId, item.Title.Trim(), item.CategoryPath.Count > 0 ? item.CategoryPath[0] : null);
                    break;
                case ReplayClick { Click: var click }:
                    // Without an invoice, the user's clicks at one instant are treated as one basket.
                    var basket = click.Context.TryGetValue("invoice", out var invoice) ? invoice : $"{click.UserId}@{click.TsMs}";
                    interactions.Add(new EvalInteraction(click.UserId, click.ItemId, click.TsMs, basket));
                    break;
            }
        }
        // Items without a title cannot be encoded; their interactions are dropped for every method alike.
        interactions.RemoveAll(i => !items.ContainsKey(i.ItemId));
        // Stable sort: replay order breaks ties of equal timestamps.
        var ordered = interactions.OrderBy(i => i.TsMs).ToList();
        return new EvalDataset(items.Values.OrderBy(i => i.ItemId, StringComparer.Ordinal).ToList(), ordered);
    }

    public static EvalDataset FromParts(IReadOnlyList<EvalItem> items, IReadOnlyList<EvalInteraction> interactions) =>
        new(items, interactions.OrderBy(i => i.TsMs).ToList());
}
