using ReaSeq.Contracts;
using ReaSeq.Models.Ctr;
using ReaSeq.Processors.Trainer;

namespace ReaSeq.Tests.Trainer;

public sealed class PointInTimeFeaturesTests
{
    private static readonly Dictionary<string, ItemFeatures> Items = new()
    {
        ["a"] = Item("a", 1, knownAt: 10),
        ["b"] = Item("b", 2, knownAt: 10),
        ["c"] = Item("c", 3, knownAt: 10),
        ["late"] = Item("late", 4, knownAt: 5_000),
        ["target"] = Item("target", 5, knownAt: 10),
    };

    [Fact]
    public void A_click_at_or_after_the_impression_never_changes_its_features()
    {
        var impression = new LabeledImpression { ImpressionId = "i1", UserId = "u", ItemId = "target", TsMs = 1_000, Label = 1 };
        List<UserClick> clicks = [new("a", 100), new("b", 200), new("c", 300)];
        List<AugmentedRecord> augmented = [new(250, "dllm-1", ["a", "b"], [new CtrFill(1, [9f, 9f])])];

        var before = PointInTimeFeatures.Build(impression, clicks, augmented, Lookup, popularityBefore: 7, maxHistory: 10);

        // The click the impression itself led to (same time), later clicks, a later augmented sequence.
        var laterClicks = clicks.Concat([new UserClick("target", 1_000), new UserClick("a", 1_500), new UserClick("late", 6_000)]).ToList();
        var laterAugmented = augmented.Append(new AugmentedRecord(1_200, "dllm-2", ["a", "b", "c", "target"], [new CtrFill(4, [8f, 8f])])).ToList();
        var after = PointInTimeFeatures.Build(impression, laterClicks, laterAugmented, Lookup, popularityBefore: 7, maxHistory: 10);

        Assert.Equal(Describe(before), Describe(after));
        Assert.Equal(3, after.User.ClickCount);
        Assert.Equal(new[] { 1f, 2f, 3f }, after.User.History.Select(v => v[0]));
        // The fill of the sequence as of t=250 (before its 2nd observed item "b") lands before "b" in today's history.
        var fill = Assert.Single(after.User.Fills!);
        Assert.Equal(1, fill.Position);
        Assert.Equal(1f, after.Label);
    }

    [Fact]
    public void Knowledge_that_appeared_after_the_impression_is_unknown_to_it()
    {
        var impression = new LabeledImpression { ImpressionId = "i2", UserId = "u", ItemId = "late", TsMs = 1_000, Label = 0 };
        var example = PointInTimeFeatures.Build(impression, [new UserClick("late", 500), new UserClick("a", 600)], null, Lookup, 0, 10);
        Assert.Null(example.Candidate.KnowledgeVector);
        Assert.Null(example.Candidate.SemanticId);
        Assert.Equal(0, example.Candidate.CategoryBucket);
        Assert.Equal(new[] { 1f }, example.User.History.Select(v => v[0]));
        Assert.Equal(2, example.User.ClickCount);
        Assert.Null(example.User.Fills);
    }

    [Fact]
    public void Only_the_newest_history_is_kept_and_fills_in_the_dropped_part_are_dropped()
    {
        var impression = new LabeledImpression { ImpressionId = "i3", UserId = "u", ItemId = "target", TsMs = 1_000, Label = 0 };
        List<UserClick> clicks = [new("a", 100), new("b", 200), new("c", 300)];
        List<AugmentedRecord> augmented = [new(400, "dllm-1", ["a", "b", "c"], [new CtrFill(0, [1f]), new CtrFill(3, [2f])])];
        var example = PointInTimeFeatures.Build(impression, clicks, augmented, Lookup, 0, maxHistory: 2);
        Assert.Equal(new[] { 2f, 3f }, example.User.History.Select(v => v[0]));
        var fill = Assert.Single(example.User.Fills!);
        Assert.Equal(2, fill.Position);
    }

    private static ItemFeatures? Lookup(string id) => Items.GetValueOrDefault(id);

    private static ItemFeatures Item(string id, float value, long knownAt) =>
        new(id, [value, value], [(int)value, 0], "sid-1", knownAt, CtrBuckets.CategoryBucket("cat" + id), CtrBuckets.PriceBucket(value), knownAt);

    private static string Describe(CtrExample e) =>
        $"{e.User.UserId}|{e.User.ClickCount}|{string.Join(";", e.User.History.Select(v => string.Join(",", v)))}|" +
        $"{string.Join(";", e.User.HistorySemanticIds!.Select(s => s is null ? "-" : string.Join(",", s)))}|" +
        $"{string.Join(";", (e.User.Fills ?? []).Select(f => f.Position + ":" + string.Join(",", f.Vector)))}|" +
        $"{e.Candidate.ItemId}|{string.Join(",", e.Candidate.KnowledgeVector ?? [])}|{e.Candidate.CategoryBucket}|{e.Candidate.PriceBucket}|{e.Candidate.Popularity}|{e.Label}";
}
