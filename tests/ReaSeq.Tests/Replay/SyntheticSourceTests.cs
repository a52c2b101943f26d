using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Replay;
using ReaSeq.Ingestors.Replay.Synthetic;

namespace ReaSeq.Tests.Replay;

public sealed class SyntheticSourceTests
{
    private static SyntheticOptions Small(ulong seed = 5) => new()
    {
        Seed = seed,
        Users = 300,
        Items = 640,
        Days = 20,
        EventsPerUser = 40,
        OffPlatformShare = 0.25,
        NegativesPerClick = 3,
    };

    private static (List<ReplayRecord> Records, List<OffPlatformEvent> Truth, SyntheticSource Source) Run(SyntheticOptions options)
    {
        using var truth = new StringWriter();
        var source = new SyntheticSource(SyntheticWorld.Create(options), truth);
        var records = source.Read().ToList();
        var events = truth.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => System.Text.Json.JsonSerializer.Deserialize<OffPlatformEvent>(line, JsonOptions)!).ToList();
        return (records, events, source);
    }

    private static readonly System.Text.Json.JsonSerializerOptions JsonOptions = new()
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private static string Describe(ReplayRecord r) => r switch
    {
        ReplayItem i => $"I {i.Item.ItemId} {i.Item.Title} {i.Item.Price} {string.Join('>', i.Item.CategoryPath)}",
        ReplayClick c => $"C {c.Click.EventId} {c.Click.UserId} {c.Click.ItemId} {c.Click.TsMs} {c.Click.Action}",
        ReplayImpression m => $"M {m.Impression.ImpressionId} {m.Impression.ItemId} {m.Impression.Label}",
        _ => "?",
    };

    [Fact]
    public void Same_seed_gives_the_same_stream_and_ground_truth_other_seed_does_not()
    {
        var a = Run(Small());
        var b = Run(Small());
        var c = Run(Small(seed: 6));
        Assert.Equal(a.Records.Select(Describe), b.Records.Select(Describe));
        Assert.Equal(a.Truth, b.Truth);
        Assert.NotEqual(a.Records.Select(Describe), c.Records.Select(Describe));
    }

    [Fact]
    public void Impression_settings_do_not_change_behaviour()
    {
        var with = Run(Small()).Records.OfType<ReplayClick>().Select(Describe);
        var options = Small();
        options.NegativesPerClick = 0;
        var without = Run(options);
        Assert.Equal(with, without.Records.OfType<ReplayClick>().Select(Describe));
        Assert.Empty(without.Records.OfType<ReplayImpression>());
    }

    [Fact]
    public void Off_platform_events_are_withheld_from_the_stream_and_kept_in_the_ground_truth()
    {
        var (records, truth, source) = Run(Small());
        var clicks = records.OfType<ReplayClick>().Select(r => r.Click).ToList();
        var published = clicks.Select(c => (c.UserId, c.ItemId, c.TsMs)).ToHashSet();

        Assert.NotEmpty(truth);
        Assert.All(truth, t => Assert.DoesNotContain((t.UserId, t.ItemId, t.TsMs), published));
        Assert.Equal(truth.Count, source.Stats.SkippedFor(SyntheticSource.OffPlatformReason));
        Assert.Equal(source.Stats.Read, clicks.Count + truth.Count);
        // Sessions go off-platform with probability 0.25; events follow sessions, so the share is near it.
        Assert.InRange(truth.Count / (double)source.Stats.Read, 0.15, 0.35);
        Assert.Equal(truth.OrderBy(t => t.TsMs).Select(t => t.TsMs), truth.Select(t => t.TsMs));

        // after_event_id is the user's latest published click before the withheld event.
        var byUser = clicks.GroupBy(c => c.UserId).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var t in truth)
        {
            var before = byUser.GetValueOrDefault(t.UserId)?.Where(c => c.TsMs < t.TsMs).LastOrDefault();
            Assert.Equal(before?.EventId, t.AfterEventId);
        }
        Assert.Contains(truth, t => t.AfterEventId is not null);
    }

    [Fact]
    public void Ground_truth_file_round_trips()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "truth.jsonl");
        var source = new SyntheticSource(SyntheticWorld.Create(Small()), path);
        _ = source.Read().Count();
        var fromFile = SyntheticGroundTruth.Read(path).ToList();
        Assert.Equal(Run(Small()).Truth, fromFile);
        Assert.Contains("\"after_event_id\"", File.ReadLines(path).First());
    }

    [Fact]
    public void Catalog_comes_first_then_events_in_time_order_and_all_records_are_valid()
    {
        var (records, _, _) = Run(Small());
        var validator = new ContractValidator(new ContractLimits());
        var firstNonItem = records.FindIndex(r => r is not ReplayItem);
        Assert.Equal(640, firstNonItem);
        Assert.All(records.Take(firstNonItem), r => validator.Validate(((ReplayItem)r).Item));
        for (var i = 1; i < records.Count; i++) Assert.True(records[i].TsMs >= records[i - 1].TsMs, $"record {i} goes back in time");
        foreach (var r in records.Skip(firstNonItem))
        {
            if (r is ReplayClick c) validator.Validate(c.Click);
            else validator.Validate(((ReplayImpression)r).Impression);
        }
        var clickIds = records.OfType<ReplayClick>().Select(c => c.Click.EventId).ToList();
        Assert.Equal(clickIds.Count, clickIds.Distinct().Count());
    }

    [Fact]
    public void Category_tree_is_8_by_4_and_titles_carry_the_item_attributes()
    {
        var world = SyntheticWorld.Create(Small());
        Assert.Equal(8, world.Categories.Count);
        Assert.All(world.Categories, c => Assert.Equal(4, c.SubCategories.Count));
        Assert.Equal(32, world.SubCategories.Select(s => s.Name).Distinct().Count());
        Assert.All(world.SubCategories, s => Assert.Equal(20, world.ItemsOf(s.Index).Count));
        foreach (var item in world.Items)
        {
            var primary = world.Categories[item.SubCategory.PrimaryIndex];
            Assert.EndsWith(item.SubCategory.Name, item.Title);
            Assert.Equal(primary.Schema.Select(a => a.Name).Order(), item.Attributes.Keys.Order());
            foreach (var attribute in primary.Schema.Where(a => a.InTitle)) Assert.Contains(item.Attributes[attribute.Name], item.Title);
            Assert.Contains(item.Title, item.Description);
            Assert.True(item.Price > 0);
        }
        var update = world.ToItemUpdate(world.Items[0], 1);
        Assert.Equal([world.Categories[world.Items[0].SubCategory.PrimaryIndex].Name, world.Items[0].SubCategory.Name], update.CategoryPath);

        var fewer = SyntheticWorld.Create(new SyntheticOptions { PrimaryCategories = 3, SubCategoriesPerPrimary = 2, Items = 60, Users = 5 });
        Assert.Equal(6, fewer.SubCategories.Count);
    }

    [Fact]
    public void Users_switch_category_mostly_between_sessions_with_long_gaps_there()
    {
        var options = Small();
        options.OffPlatformShare = 0;
        options.NegativesPerClick = 0;
        var (records, _, _) = Run(options);
        var world = SyntheticWorld.Create(options);
        var subOf = world.Items.ToDictionary(i => i.Id, i => i.SubCategory.Index);
        int inSessionPairs = 0, inSessionSwitches = 0, boundaryPairs = 0, boundarySwitches = 0;
        var inGaps = new List<long>();
        var boundaryGaps = new List<long>();
        foreach (var user in records.OfType<ReplayClick>().Select(r => r.Click).GroupBy(c => c.UserId))
        {
            var clicks = user.ToList();
            for (var i = 1; i < clicks.Count; i++)
            {
                var switched = subOf[clicks[i].ItemId] != subOf[clicks[i - 1].ItemId];
                var gap = clicks[i].TsMs - clicks[i - 1].TsMs;
                if (clicks[i].Context["session"] == clicks[i - 1].Context["session"])
                { inSessionPairs++; inSessionSwitches += switched ? 1 : 0; inGaps.Add(gap); }
                else
                { boundaryPairs++; boundarySwitches += switched ? 1 : 0; boundaryGaps.Add(gap); }
            }
        }
        Assert.True(inSessionPairs > 1000 && boundaryPairs > 500);
        Assert.True(inSessionSwitches / (double)inSessionPairs < 0.1);
        Assert.True(boundarySwitches / (double)boundaryPairs > 2 * (inSessionSwitches / (double)inSessionPairs));
        Assert.True(Median(inGaps) * 50 < Median(boundaryGaps));
        Assert.True(boundaryGaps.Min() >= 30 * 60_000L);
    }

    [Fact]
    public void Negatives_favour_the_users_interests_and_never_repeat_the_click()
    {
        var options = Small();
        var (records, _, _) = Run(options);
        var world = SyntheticWorld.Create(options);
        var items = world.Items.ToDictionary(i => i.Id);
        var users = world.Users.ToDictionary(u => u.Id);
        var clicks = records.OfType<ReplayClick>().ToDictionary(c => c.Click.EventId, c => c.Click);
        var groups = records.OfType<ReplayImpression>().Select(r => r.Impression)
            .GroupBy(i => i.ImpressionId[..i.ImpressionId.LastIndexOf('-')]).ToList();
        Assert.Equal(clicks.Count, groups.Count);
        int negatives = 0, inInterest = 0;
        foreach (var g in groups)
        {
            var click = clicks[g.Key];
            Assert.Equal(click.ItemId, Assert.Single(g, i => i.Label == 1).ItemId);
            var negs = g.Where(i => i.Label == 0).ToList();
            Assert.Equal(options.NegativesPerClick, negs.Count);
            Assert.DoesNotContain(click.ItemId, negs.Select(n => n.ItemId));
            Assert.Equal(negs.Count, negs.Select(n => n.ItemId).Distinct().Count());
            foreach (var n in negs)
            {
                negatives++;
                if (SyntheticWorld.InterestIn(users[click.UserId], items[n.ItemId].SubCategory.Index) > 0) inInterest++;
            }
        }
        // Uniform draws would hit a user's 1–3 of 32 sub-categories about 6% of the time; acceptance lifts that.
        Assert.True(inInterest / (double)negatives > 0.2, $"{inInterest} of {negatives} negatives in the user's interests");
    }

    [Fact]
    public void A_million_events_are_generated_without_trouble()
    {
        var options = new SyntheticOptions { Seed = 1, Users = 25_000, Items = 5_000, EventsPerUser = 50, NegativesPerClick = 0 };
        var source = new SyntheticSource(SyntheticWorld.Create(options));
        long clicks = 0, lastTs = 0;
        var ordered = true;
        foreach (var r in source.Read())
        {
            ordered &= r.TsMs >= lastTs;
            lastTs = r.TsMs;
            if (r is ReplayClick) clicks++;
        }
        Assert.True(ordered);
        Assert.True(source.Stats.Read >= 1_000_000, $"only {source.Stats.Read} events");
        Assert.Equal(source.Stats.Read, clicks + source.Stats.SkippedFor(SyntheticSource.OffPlatformReason));
    }

    [Fact]
    public void Bad_options_are_rejected_with_the_option_named()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticWorld.Create(new SyntheticOptions { OffPlatformShare = 1.5 }));
        Assert.Equal(nameof(SyntheticOptions.OffPlatformShare), error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticWorld.Create(new SyntheticOptions { PrimaryCategories = 9 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticWorld.Create(new SyntheticOptions { Items = 10 }));
    }

    private static double Median(List<long> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
