namespace ReaSeq.Tools.Eval;

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
