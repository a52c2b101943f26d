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

public sealed class EvalSplitOptions
{
    /// <summary>Explicit split instant; when null the split falls at (1 - TestFraction) of the data's time span.</summary>
    public DateTimeOffset? SplitAt { get; set; }

    public double TestFraction { get; set; } = 0.2;

    /// <summary>When set, interactions at or after it are dropped before the split (a validation run for tuning).</summary>
    public DateTimeOffset? Until { get; set; }

    /// <summary>Most recent clicks before the split kept as the user's sequence.</summary>
    public int HistoryLength { get; set; } = 50;

    /// <summary>At most this many targets per user: the first distinct new items bought after the split.</summary>
    public int MaxTargets { get; set; } = 10;

    /// <summary>Evaluate at most this many users (the first by user id order of the eligible ones); 0 = all.</summary>
    public int LimitUsers { get; set; }

    public void Validate()
    {
        if (TestFraction is <= 0 or >= 1) throw new ArgumentException($"--test-fraction must be in (0, 1), got {TestFraction}");
        if (HistoryLength < 1) throw new ArgumentException($"--history must be positive, got {HistoryLength}");
        if (MaxTargets < 1) throw new ArgumentException($"--targets must be positive, got {MaxTargets}");
        if (LimitUsers < 0) throw new ArgumentException($"--limit-users must not be negative, got {LimitUsers}");
    }
}

/// <summary>The time-ordered split: training interactions before the split, evaluation users across it.</summary>
public sealed record EvalSplit(long SplitTsMs, IReadOnlyList<EvalInteraction> Training, IReadOnlyList<EvalUser> Users, int EligibleUsers)
{
    /// <summary>
    /// Users with at least one click before the split and at least one item after it that is not in their kept
    /// history. Targets are those new items in order of first purchase: a repeat purchase would be found by any
    /// representation through the item itself, which measures nothing about similarity.
    /// </summary>
    public static EvalSplit Build(EvalDataset data, EvalSplitOptions options)
    {
        options.Validate();
        if (data.Interactions.Count == 0) throw new ArgumentException("The data set has no interactions.");
        long first = data.Interactions[0].TsMs, last = data.Interactions[^1].TsMs;
        long split = options.SplitAt?.ToUnixTimeMilliseconds() ?? first + (long)((last - first) * (1 - options.TestFraction));
        if (split <= first || split > last)
        {
            throw new ArgumentException($"The split {DateTimeOffset.FromUnixTimeMilliseconds(split):u} is outside the data " +
                                        $"({DateTimeOffset.FromUnixTimeMilliseconds(first):u} .. {DateTimeOffset.FromUnixTimeMilliseconds(last):u}).");
        }

        var training = data.Interactions.Where(i => i.TsMs < split).ToList();
        var before = training.GroupBy(i => i.UserId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(i => i.ItemId).ToList(), StringComparer.Ordinal);
        var after = data.Interactions.Where(i => i.TsMs >= split).GroupBy(i => i.UserId, StringComparer.Ordinal);
        var users = new List<EvalUser>();
        foreach (var group in after.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            if (!before.TryGetValue(group.Key, out var clicks)) continue;
            var history = clicks.Skip(Math.Max(0, clicks.Count - options.HistoryLength)).ToList();
            var seen = new HashSet<string>(history, StringComparer.Ordinal);
            var targets = group.Select(i => i.ItemId).Where(seen.Add).Take(options.MaxTargets).ToList();
            if (targets.Count > 0) users.Add(new EvalUser(group.Key, history, targets));
        }
        int eligible = users.Count;
        if (options.LimitUsers > 0 && users.Count > options.LimitUsers) users = users.Take(options.LimitUsers).ToList();
        return new EvalSplit(split, training, users, eligible);
    }
}
