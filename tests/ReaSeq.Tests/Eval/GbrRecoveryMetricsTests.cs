using ReaSeq.Ingestors.Replay.Synthetic;
using ReaSeq.Processors.Sequence;
using ReaSeq.Tools.Eval.Gbr;

namespace ReaSeq.Tests.Eval;

public sealed class GbrRecoveryMetricsTests
{
    [Fact]
    public void Precision_and_recall_count_flagged_transitions_against_true_ones()
    {
        var truth = new HashSet<(string, int)> { ("a", 2), ("a", 5), ("b", 1), ("b", 4) };
        var flagged = new HashSet<(string, int)> { ("a", 2), ("a", 3), ("b", 4), ("c", 1), ("c", 2) };

        var score = GbrRecoveryMetrics.Locate("TD", flagged, truth);

        Assert.Equal(5, score.Flagged);
        Assert.Equal(4, score.TruePositions);
        Assert.Equal(2, score.Hits);
        Assert.Equal(0.4, score.Precision, 12);
        Assert.Equal(0.5, score.Recall, 12);
        Assert.True(double.IsNaN(GbrRecoveryMetrics.Locate("CD", new HashSet<(string, int)>(), truth).Precision));
    }

    [Fact]
    public void Nearest_ranks_by_cosine_skips_items_without_a_vector_and_breaks_ties_by_row()
    {
        float[]?[] items =
        [
            [1, 0],
            [0, 1],
            null,
            [0.8f, 0.6f],
            [1, 0],
        ];

        // Query (2, 1): cosines 0.894 (rows 0 and 4), 0.447 (row 1), 0.984 (row 3).
        var ranked = GbrRecoveryMetrics.Nearest([2, 1], items, 10);

        Assert.Equal([3, 0, 4, 1], ranked);
        Assert.Equal([3, 0], GbrRecoveryMetrics.Nearest([2, 1], items, 2));
    }

    [Fact]
    public void The_neighbour_mean_is_the_unit_bisector()
    {
        var mean = GbrRecoveryMetrics.MeanDirection([1, 0], [0, 1]);

        Assert.Equal(1 / MathF.Sqrt(2), mean[0], 6);
        Assert.Equal(1 / MathF.Sqrt(2), mean[1], 6);
    }

    [Fact]
    public void A_gap_is_a_hit_at_k_when_any_withheld_item_is_in_the_first_k()
    {
        var rate = new GbrHitRate("m", [1, 3]);
        rate.Add([7, 8, 9], new HashSet<int> { 9, 42 }); // hit at 3 only
        rate.Add([5, 6, 7], new HashSet<int> { 5 });     // hit at 1 and 3
        rate.Add([1, 2, 3], new HashSet<int> { 4 });     // miss

        Assert.Equal(3, rate.Gaps);
        Assert.Equal(1 / 3.0, rate.At(1), 12);
        Assert.Equal(2 / 3.0, rate.At(3), 12);
        Assert.False(GbrRecoveryMetrics.Hit([1, 2], new HashSet<int> { 2 }, 1));
        Assert.True(double.IsNaN(new GbrHitRate("empty", [10]).At(10)));
    }

    [Fact]
    public void A_withheld_event_hides_in_the_transition_after_the_users_last_published_click_before_it()
    {
        GbrUserSequence user = new("u", [Event("e0"), Event("e1"), Event("e2")]);
        OffPlatformEvent[] withheld =
        [
            Withheld("i1", after: "e0"),   // between e0 and e1: event index 1
            Withheld("i2", after: "e0"),   // same off-platform session, same gap
            Withheld("i3", after: "e1"),   // between e1 and e2: index 2
            Withheld("i4", after: "e2"),   // after the last click: no transition
            Withheld("i5", after: null),   // before the first click: no transition
            Withheld("none", after: "e1"), // no vector
        ];
        var rows = new Dictionary<string, int> { ["i1"] = 1, ["i2"] = 2, ["i3"] = 3, ["i4"] = 4, ["i5"] = 5 };

        var truth = GbrRecovery.TruePositions([user], withheld, id => rows.GetValueOrDefault(id, -1), out var unplaceable);

        Assert.Equal(2, truth.Count);
        Assert.Equal([1, 2], truth[("u", 1)].Order());
        Assert.Equal([3], truth[("u", 2)]);
        Assert.Equal(3, unplaceable);
    }

    private static GbrEvent Event(string id) => new(id, "x", 0, DetectionVariantFlags.None, false);

    private static OffPlatformEvent Withheld(string item, string? after) =>
        new("u", item, 0, after, "C>S", ReaSeq.Contracts.ClickAction.CLICK, 1);

    [Fact]
    public void A_users_own_history_ranks_by_count_then_recency_then_falls_back_to_popularity()
    {
        // Clicks in time order; -1 is an item without a vector and is skipped.
        int[] history = [5, 7, 5, -1, 9, 7, 3];
        int[] popular = [1, 5, 2, 4];

        // 5 and 7 twice (7 more recently), then 3 (newest) and 9 once, then the popular items not already named.
        Assert.Equal([7, 5, 3, 9, 1, 2], GbrRecoveryMetrics.MostClickedBefore(history, popular, 6));
        Assert.Equal([7, 5], GbrRecoveryMetrics.MostClickedBefore(history, popular, 2));
        Assert.Equal([1, 5, 2], GbrRecoveryMetrics.MostClickedBefore([], popular, 3));
    }
}

