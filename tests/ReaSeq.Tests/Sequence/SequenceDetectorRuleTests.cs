using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;
using static ReaSeq.Tests.Sequence.SequenceTestData;

namespace ReaSeq.Tests.Sequence;

public sealed class SequenceDetectorRuleTests
{
    private static SequenceDetectorOptions Fixed(long thresholdMs = 1000, int window = 10, int context = 2, int kappa = 2) => new()
    {
        FixedTemporalThresholdMs = thresholdMs,
        BasketToleranceMs = 0,
        WindowSize = window,
        ContextLength = context,
        RankThreshold = kappa,
        OutOfOrderToleranceMs = 500,
        LearnOnline = false,
    };

    /// <summary>An undirected model where 0–1 and 1–2 co-occur (1–0 more strongly), and item 9 exists but co-occurs with nothing.</summary>
    private static SwingCooccurrenceModel ChainModel()
    {
        var model = new SwingCooccurrenceModel(new SwingModelOptions { CoOccurrenceWindow = 1, HalfLifeMs = null, Symmetric = true });
        for (var user = 1; user <= 20; user++)
        {
            var a = model.Learn([], Item(0), user * 100, 1);
            var b = model.Learn([a], Item(1), user * 100 + 1, 2);
            model.Learn([b], Item(2), user * 100 + 2, 3);
        }
        model.Learn([], Item(9), 5000, 1);
        return model;
    }

    [Fact]
    public void First_event_of_a_user_has_no_transition()
    {
        using var detector = new SequenceDetector(Fixed(), ChainModel());
        var result = detector.Process(Click("u", "e1", 0, 1000));
        Assert.Equal(ClickStatus.Accepted, result.Status);
        Assert.Null(result.Transition);
        Assert.Equal(0, result.Position);
        Assert.Equal(0, detector.GetStatistics().Transitions);
    }

    [Fact]
    public void Temporal_rule_fires_strictly_above_the_threshold_and_records_it()
    {
        using var detector = new SequenceDetector(Fixed(thresholdMs: 1000), ChainModel());
        detector.Process(Click("u", "e1", 0, 0));
        var atThreshold = detector.Process(Click("u", "e2", 1, 1000)).Transition!.Value;
        var above = detector.Process(Click("u", "e3", 2, 2001)).Transition!.Value;
        Assert.Equal(1000, atThreshold.DeltaMs);
        Assert.Equal(GapReasonFlags.None, atThreshold.Reasons & GapReasonFlags.Temporal);
        Assert.Equal(GapReasonFlags.Temporal, above.Reasons & GapReasonFlags.Temporal);
        Assert.Equal(1000, above.ThresholdMs);
        Assert.True(above.IsGap(DetectionVariant.Temporal));
        Assert.True(above.IsGap(DetectionVariant.TemporalOrCategory));
        Assert.False(above.IsGap(DetectionVariant.Category));
    }

    [Fact]
    public void Category_rule_needs_two_known_and_different_primary_categories()
    {
        using var detector = new SequenceDetector(Fixed(), ChainModel());
        detector.Process(Click("u", "e1", 0, 0, "toys"));
        var same = detector.Process(Click("u", "e2", 1, 1, "toys")).Transition!.Value;
        var changed = detector.Process(Click("u", "e3", 2, 2, "food")).Transition!.Value;
        var unknown = detector.Process(Click("u", "e4", 0, 3, null)).Transition!.Value;
        var afterUnknown = detector.Process(Click("u", "e5", 1, 4, "")).Transition!.Value;

        Assert.Equal(GapReasonFlags.None, same.Reasons & GapReasonFlags.Category);
        Assert.Equal(GapReasonFlags.Category, changed.Reasons & GapReasonFlags.Category);
        Assert.Equal(("toys", "food"), (changed.FromCategory, changed.ToCategory));
        Assert.True(changed.IsGap(DetectionVariant.Category));
        Assert.False(unknown.CategoryKnown);
        Assert.Equal(GapReasonFlags.None, unknown.Reasons & GapReasonFlags.Category);
        Assert.Equal(GapReasonFlags.None, afterUnknown.Reasons & GapReasonFlags.Category);
    }

    [Fact]
    public void Rank_rule_uses_the_collaborative_model_ranks_items_outside_the_candidates_and_makes_no_decision_without_evidence()
    {
        using var detector = new SequenceDetector(Fixed(kappa: 1), ChainModel());
        detector.Process(Click("u", "e1", 0, 0));
        var expected = detector.Process(Click("u", "e2", 1, 1)).Transition!.Value;
        var unrelated = detector.Process(Click("u", "e3", 9, 2)).Transition!.Value;
        var unknown = detector.Process(Click("u", "e4", 77, 3)).Transition!.Value;

        Assert.Equal((RankStatus.Ranked, 1), (expected.RankStatus, expected.Rank));
        Assert.Equal(GapReasonFlags.None, expected.Reasons & GapReasonFlags.Rank);
        // Item 9 is known but outside the candidates of the context (0, 1), which are items 1, 0 and 2: its rank is 4 > κ.
        Assert.Equal((RankStatus.OutsideCandidates, 4), (unrelated.RankStatus, unrelated.Rank));
        Assert.Equal(GapReasonFlags.Rank, unrelated.Reasons & GapReasonFlags.Rank);
        // An unknown item is no evidence: no RANK decision.
        Assert.Equal(RankStatus.UnknownItem, unknown.RankStatus);
        Assert.Equal(GapReasonFlags.None, unknown.Reasons & GapReasonFlags.Rank);
        Assert.Equal(1, detector.GetStatistics().RankUndecided);
        Assert.True(double.IsFinite(unknown.LogProbability));
        Assert.True(unknown.LogProbability < expected.LogProbability);
    }

    [Fact]
    public void Two_stage_variant_needs_temporal_and_category_and_rank()
    {
        using var detector = new SequenceDetector(Fixed(thresholdMs: 10, kappa: 1), ChainModel());
        detector.Process(Click("u", "e1", 0, 0, "toys"));
        // TD and CD, but the model expects item 1 after item 0: the coarse candidate is dropped by RANK.
        var coherent = detector.Process(Click("u", "e2", 1, 100, "food")).Transition!.Value;
        // TD, CD and an implausible item: a gap.
        var gap = detector.Process(Click("u", "e3", 9, 200, "tools")).Transition!.Value;
        // CD and RANK but no TD.
        var quick = detector.Process(Click("u", "e4", 0, 201, "toys")).Transition!.Value;

        Assert.Equal(GapReasonFlags.Temporal | GapReasonFlags.Category, coherent.Reasons);
        Assert.False(coherent.IsGap(DetectionVariant.TemporalAndCategoryThenRank));
        Assert.True(coherent.IsGap(DetectionVariant.TemporalOrCategory));
        Assert.Equal(GapReasonFlags.Temporal | GapReasonFlags.Category | GapReasonFlags.Rank, gap.Reasons);
        Assert.True(gap.IsGap(DetectionVariant.TemporalAndCategoryThenRank));
        Assert.False(quick.IsGap(DetectionVariant.TemporalAndCategoryThenRank));
        Assert.Equal([2], detector.GetUser("u")!.GapPositions(DetectionVariant.TemporalAndCategoryThenRank));
    }

    [Fact]
    public void Equal_timestamps_give_zero_gap_and_keep_arrival_order()
    {
        using var detector = new SequenceDetector(Fixed(), ChainModel());
        detector.Process(Click("u", "e1", 0, 500));
        var tie = detector.Process(Click("u", "e2", 1, 500));
        Assert.Equal(ClickStatus.Accepted, tie.Status);
        Assert.Equal(1, tie.Position);
        Assert.Equal(0, tie.Transition!.Value.DeltaMs);
        Assert.Equal(["e1", "e2"], Window(detector, "u").Select(e => e.EventId));
    }

    [Fact]
    public void Late_event_within_tolerance_is_inserted_in_order_and_neighbours_are_re_evaluated()
    {
        using var detector = new SequenceDetector(Fixed(thresholdMs: 150), ChainModel());
        detector.Process(Click("u", "e1", 0, 1000, "toys"));
        var before = detector.Process(Click("u", "e3", 2, 1200, "food")).Transition!.Value;
        Assert.Equal(200, before.DeltaMs);
        Assert.True(before.IsGap(DetectionVariant.Temporal));

        var late = detector.Process(Click("u", "e2", 1, 1100, "food"));
        Assert.Equal(ClickStatus.AcceptedOutOfOrder, late.Status);
        Assert.Equal(1, late.Position);
        Assert.Equal((1, 2), (late.FirstChanged, late.LastChanged));
        Assert.Equal(["e1", "e2", "e3"], Window(detector, "u").Select(e => e.EventId));
        var user = detector.GetUser("u")!;
        Assert.Equal(100, user[1].Incoming!.Value.DeltaMs);
        var after = user[2].Incoming!.Value;
        Assert.Equal(100, after.DeltaMs);
        Assert.Equal(GapReasonFlags.None, after.Reasons & (GapReasonFlags.Temporal | GapReasonFlags.Category));
        Assert.Equal(("food", "food"), (after.FromCategory, after.ToCategory));
        // The statistics follow the revision: no temporal gap is left.
        Assert.Equal(0, detector.GetStatistics().For(DetectionVariant.Temporal).Gaps);
        Assert.Equal(1, detector.GetStatistics().EventsOutOfOrder);
    }

    [Fact]
    public void Late_event_beyond_tolerance_is_rejected_for_the_dead_letter_queue()
    {
        using var detector = new SequenceDetector(Fixed(), ChainModel());
        detector.Process(Click("u", "e1", 0, 10_000));
        var late = detector.Process(Click("u", "e0", 1, 9_499));
        Assert.Equal(ClickStatus.RejectedTooLate, late.Status);
        Assert.True(late.ShouldDeadLetter);
        Assert.Contains("501 ms older", late.Detail);
        Assert.Single(Window(detector, "u"));
        Assert.Equal(ClickStatus.AcceptedOutOfOrder, detector.Process(Click("u", "e0b", 1, 9_500)).Status);
    }

    [Fact]
    public void Late_event_that_would_land_before_the_retained_context_is_rejected()
    {
        using var detector = new SequenceDetector(Fixed(window: 4, context: 1), ChainModel());
        for (var i = 0; i < 4; i++) detector.Process(Click("u", $"e{i}", 0, 1000 + i * 10));
        // Window full: positions 0 and 1 (≤ c) are closed to insertions; position 2 is open.
        var tooDeep = detector.Process(Click("u", "x", 1, 1005));
        Assert.Equal(ClickStatus.RejectedOutsideWindow, tooDeep.Status);
        Assert.True(tooDeep.ShouldDeadLetter);
        var allowed = detector.Process(Click("u", "y", 1, 1015));
        Assert.Equal(ClickStatus.AcceptedOutOfOrder, allowed.Status);
        // The oldest event was evicted: the window still holds 4 and the offset counts the eviction.
        var user = detector.GetUser("u")!;
        Assert.Equal((4, 1L), (user.Count, user.Offset));
        Assert.Equal(1, allowed.Position);
        Assert.Equal(["e1", "y", "e2", "e3"], Window(detector, "u").Select(e => e.EventId));
    }

    [Fact]
    public void Duplicate_event_ids_are_ignored()
    {
        using var detector = new SequenceDetector(Fixed(), ChainModel());
        detector.Process(Click("u", "e1", 0, 0));
        detector.Process(Click("u", "e2", 1, 10));
        var again = detector.Process(Click("u", "e1", 0, 20));
        Assert.Equal(ClickStatus.Duplicate, again.Status);
        Assert.False(again.ShouldDeadLetter);
        Assert.Equal(2, Window(detector, "u").Count);
        // Event ids are per user: another user may reuse one.
        Assert.Equal(ClickStatus.Accepted, detector.Process(Click("v", "e1", 0, 0)).Status);
        Assert.Equal(1, detector.GetStatistics().Duplicates);
    }

    [Fact]
    public void Invalid_clicks_are_rejected_with_a_reason()
    {
        using var detector = new SequenceDetector(Fixed(), ChainModel());
        var noUser = detector.Process(new SequenceClick("", "e1", Item(0), 0, "a"));
        var negative = detector.Process(new SequenceClick("u", "e1", Item(0), -5, "a"));
        Assert.Equal(ClickStatus.RejectedInvalid, noUser.Status);
        Assert.Contains("no user id", noUser.Detail);
        Assert.Contains("negative timestamp", negative.Detail);
        Assert.Equal(0, detector.UserCount);
    }

    [Fact]
    public void A_position_is_labeled_when_removing_it_hurts_the_prediction_of_the_next_item()
    {
        var options = Fixed(context: 1);
        options.LabelThreshold = 1.0;
        using var detector = new SequenceDetector(options, ChainModel());
        detector.Process(Click("u", "e1", 9, 0));
        detector.Process(Click("u", "e2", 0, 1));
        var next = detector.Process(Click("u", "e3", 1, 2));
        // Item 0 predicts item 1, item 9 does not: removing position 1 (item 0) drops p(item 1) sharply.
        Assert.Equal((1, 2), (next.FirstChanged, next.LastChanged));
        var user = detector.GetUser("u")!;
        Assert.True(user[1].LabelDelta > 1.0);
        Assert.True(user[1].IsLabeled);
        Assert.True(double.IsNaN(user[0].LabelDelta));
        Assert.True(double.IsNaN(user[2].LabelDelta));
        Assert.Equal([1], user.LabeledPositions());

        // Position 2 (item 1) does not help predict item 9 more than item 0 does: not labeled.
        detector.Process(Click("u", "e4", 9, 3));
        Assert.False(user[2].IsLabeled);
        var update = user.ToUpdate(DetectionVariant.TemporalOrCategory);
        Assert.Equal([1], update.LabeledPositions);
        Assert.Equal(4, update.Window.Count);
    }

    [Fact]
    public void Statistics_report_fill_ratio_per_variant_and_histograms()
    {
        using var detector = new SequenceDetector(Fixed(thresholdMs: 50, kappa: 1), ChainModel());
        detector.Process(Click("u", "e1", 0, 0, "toys"));
        detector.Process(Click("u", "e2", 1, 10, "toys"));     // none
        detector.Process(Click("u", "e3", 9, 1000, "food"));   // TD + CD + RANK
        detector.Process(Click("u", "e4", 2, 1010, "toys"));   // CD + RANK: item 9 predicts nothing, item 2 ranks 2nd after item 1
        var stats = detector.GetStatistics();

        Assert.Equal(4, stats.EventsAccepted);
        Assert.Equal(3, stats.Transitions);
        Assert.Equal(0.25, stats.For(DetectionVariant.Temporal).FillRatio);
        Assert.Equal(0.5, stats.For(DetectionVariant.Category).FillRatio);
        Assert.Equal(0.5, stats.For(DetectionVariant.TemporalOrCategory).FillRatio);
        Assert.Equal(0.25, stats.For(DetectionVariant.TemporalAndCategoryThenRank).FillRatio);
        Assert.Equal("TD∩CD+RANK", stats.For(DetectionVariant.TemporalAndCategoryThenRank).Name);
        Assert.Equal(1, stats.Reasons["none"]);
        Assert.Equal(1, stats.Reasons["TD+CD+RANK"]);
        Assert.Equal(1, stats.Reasons["CD+RANK"]);
        Assert.Equal(3, stats.DeltaTMs.Sum(b => b.Count));
        Assert.Contains(stats.DeltaTMs, b => b.LowerInclusive == 512 && b.UpperExclusive == 1024 && b.Count == 1);
        // e2: rank 1; e3: item 9 is outside the candidates {0, 1, 2} of the context (0, 1): rank 4; e4: item 2 is 2nd after item 1 in the context (1, 9).
        Assert.Equal(3, stats.Rank.Sum(b => b.Count));
        Assert.All(stats.Rank, b => Assert.Equal(1, b.Count));
        Assert.Equal([1L, 2L, 4L], stats.Rank.Select(b => b.LowerInclusive));
        Assert.Equal(1, stats.Unranked[RankStatus.OutsideCandidates]);
    }

    [Fact]
    public void Data_driven_threshold_follows_the_gap_percentile_and_each_decision_records_it()
    {
        var options = new SequenceDetectorOptions { BasketToleranceMs = 0, TemporalPercentile = 0.9, TemporalWarmupGaps = 100, TemporalRefreshEvery = 10, InitialTemporalThresholdMs = 7, LearnOnline = false };
        using var detector = new SequenceDetector(options, ChainModel());
        var time = 0L;
        var recorded = new List<long>();
        for (var i = 0; i <= 300; i++)
        {
            time += 100 * (i % 10 + 1); // gaps 100..1000 ms, uniform
            var result = detector.Process(Click("u", $"e{i}", i % 3, time, domain: "web"));
            if (result.Transition is { } t) recorded.Add(t.ThresholdMs);
        }
        Assert.Equal(7, recorded[0]);
        Assert.Equal(7, recorded[98]); // decided before the 100th gap was observed
        var info = detector.TemporalThreshold("web");
        Assert.True(info.DataDriven);
        Assert.InRange(info.ThresholdMs, 900 * 0.98, 1000 * 1.02);
        Assert.Equal(info.ThresholdMs, recorded[^1]);
        Assert.Contains("p90 of 300 gaps", info.ToString());
        Assert.False(detector.TemporalThreshold("app").DataDriven);
    }

    [Fact]
    public void Options_and_snapshots_are_validated_with_clear_errors()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceDetector(new SequenceDetectorOptions { WindowSize = 3, ContextLength = 3 }, ChainModel()));
        Assert.Contains("WindowSize must be at least ContextLength + 2", error.Message);

        using var detector = new SequenceDetector(Fixed(window: 10), ChainModel());
        detector.Process(Click("u", "e1", 0, 0));
        var row = detector.SnapshotUser("u")!;
        using var other = new SequenceDetector(Fixed(window: 12), ChainModel());
        var mismatch = Assert.Throws<InvalidDataException>(() => other.RestoreUser(row));
        Assert.Contains("WindowSize=10", mismatch.Message);
        Assert.Throws<InvalidDataException>(() => other.RestoreUser([1, 2, 3, 4, 5, 6, 7, 8]));
        Assert.Null(detector.SnapshotUser("nobody"));
    }

    private static List<WindowEntry> Window(SequenceDetector detector, string user)
    {
        var sequence = detector.GetUser(user)!;
        return Enumerable.Range(0, sequence.Count).Select(i => sequence[i]).ToList();
    }
}
