using ReaSeq.Tools.Eval;

namespace ReaSeq.Tests.Eval;

public sealed class EvalSplitTests
{
    private static EvalDataset Data()
    {
        var items = "abcdefg".Select(c => new EvalItem(c.ToString(), $"item {c}", null)).ToList();
        EvalInteraction Buy(string user, string item, long ts) => new(user, item, ts, $"{user}-{ts}");
        return EvalDataset.FromParts(items,
        [
            Buy("u1", "a", 10), Buy("u1", "b", 20), Buy("u1", "c", 30),
            Buy("u1", "c", 110), Buy("u1", "d", 120), Buy("u1", "a", 125), Buy("u1", "e", 130), Buy("u1", "d", 140), Buy("u1", "f", 150),
            Buy("u2", "a", 40),                     // nothing after the split
            Buy("u3", "g", 105),                    // nothing before the split
            Buy("u4", "b", 50), Buy("u4", "b", 115), // only a repeat after the split
            Buy("u5", "b", 0), Buy("u5", "e", 200),
        ]);
    }

    [Fact]
    public void Users_keep_their_latest_history_and_get_new_items_bought_after_the_split_as_targets()
    {
        var split = EvalSplit.Build(Data(), new EvalSplitOptions { SplitAt = DateTimeOffset.FromUnixTimeMilliseconds(100), HistoryLength = 2, MaxTargets = 2 });

        Assert.Equal(100, split.SplitTsMs);
        Assert.Equal(6, split.Training.Count);
        // u2 bought nothing after, u3 nothing before, u4 only repeated an item of its history.
        Assert.Equal(["u1", "u5"], split.Users.Select(u => u.UserId));
        var u1 = split.Users[0];
        Assert.Equal(["b", "c"], u1.History);
        // c is in the kept history; a is not (history was cut to 2), so a counts as new; capped at 2 targets.
        Assert.Equal(["d", "a"], u1.Targets);
        Assert.Equal(["e"], split.Users[1].Targets);
    }

    [Fact]
    public void The_default_split_falls_at_the_test_fraction_of_the_time_span()
    {
        var split = EvalSplit.Build(Data(), new EvalSplitOptions { TestFraction = 0.25 });
        Assert.Equal(150, split.SplitTsMs);
        Assert.Equal(["u1", "u5"], split.Users.Select(u => u.UserId));
    }

    [Fact]
    public void Limit_and_invalid_options()
    {
        var limited = EvalSplit.Build(Data(), new EvalSplitOptions { SplitAt = DateTimeOffset.FromUnixTimeMilliseconds(100), LimitUsers = 1 });
        Assert.Single(limited.Users);
        Assert.Equal(2, limited.EligibleUsers);
        Assert.Throws<ArgumentException>(() => EvalSplit.Build(Data(), new EvalSplitOptions { TestFraction = 1 }));
        Assert.Throws<ArgumentException>(() => EvalSplit.Build(Data(), new EvalSplitOptions { SplitAt = DateTimeOffset.FromUnixTimeMilliseconds(500) }));
    }
}
