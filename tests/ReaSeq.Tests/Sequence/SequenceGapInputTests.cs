using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;
using static ReaSeq.Tests.Sequence.SequenceTestData;

namespace ReaSeq.Tests.Sequence;

/// <summary>Issue 9 §1: the inputs of the gap rules (basket T, one T per domain, RANK evidence, Δ) on hand-made sequences.</summary>
public sealed class SequenceGapInputTests
{
    private const long Hour = 3_600_000;

    private static SwingCooccurrenceModel Directed(params (int From, int To, int Times)[] pairs)
    {
        var model = new SwingCooccurrenceModel(new SwingModelOptions { CoOccurrenceWindow = 1, HalfLifeMs = null });
        var ts = 0L;
        foreach (var (from, to, times) in pairs)
        {
            for (var i = 0; i < times; i++)
            {
                var a = model.Learn([], Item(from), ++ts, 1);
                model.Learn([a], Item(to), ++ts, 2);
            }
        }
        return model;
    }

    [Fact]
    public void T_is_the_percentile_of_gaps_between_baskets_and_lines_of_one_basket_are_never_a_temporal_gap()
    {
        var options = new SequenceDetectorOptions
        {
            BasketToleranceMs = 60_000,
            TemporalPercentile = 0.95,
            TemporalWarmupGaps = 19,
            TemporalRefreshEvery = 1,
            InitialTemporalThresholdMs = 1,
            LearnOnline = false,
        };
        using var detector = new SequenceDetector(options, Directed((0, 1, 1)));
        var ts = 0L;
        var n = 0;
        var results = new List<Transition>();
        for (var basket = 0; basket < 20; basket++)
        {
            if (basket > 0) ts += basket * Hour; // gaps between baskets: 1 h, 2 h, …, 19 h
            // One basket: three lines at the same time and a fourth 30 s later (within the tolerance).
            foreach (var offset in new[] { 0L, 0L, 0L, 30_000L })
            {
                if (detector.Process(Click("u", $"e{n++}", n % 5, ts + offset)).Transition is { } t) results.Add(t);
            }
            ts += 30_000;
        }

        var info = detector.TemporalThreshold();
        Assert.Equal(19, info.GapsObserved);                // only gaps between baskets feed the sketch
        Assert.True(info.DataDriven);
        Assert.InRange(info.ThresholdMs, 18 * Hour * 0.98, 18 * Hour * 1.02); // p95 of 1..19 h (rank ⌊0.95·18⌋ = 17)
        // T was 1 ms during warm-up, yet no line inside a basket (Δt 0 or 30 s) was a TD gap; between baskets every gap was.
        Assert.All(results.Where(t => t.DeltaMs <= 60_000), t => Assert.Equal(GapReasonFlags.None, t.Reasons & GapReasonFlags.Temporal));
        Assert.Equal(19, results.Count(t => t.DeltaMs > 60_000));
        Assert.All(results.Where(t => t.DeltaMs > 60_000 && t.ThresholdMs == 1), t => Assert.True(t.IsGap(DetectionVariant.Temporal)));
    }

    [Fact]
    public void Delta_compares_the_context_with_and_without_the_labeled_item_not_a_window_shifted_back()
    {
        // P → T strongly, R → T or 5, Q → 4. Sequence P, Q, R, T with c = 2: at position 2 (R),
        // with = (Q, R), without = (Q, ·). The old shifted window (P, Q) still holds P, which predicts T as well as R does.
        const int P = 0, Q = 1, R = 2, T = 3;
        var model = Directed((P, T, 10), (R, T, 5), (R, 5, 5), (Q, 4, 10));
        var options = new SequenceDetectorOptions { ContextLength = 2, LabelThreshold = 1.0, FixedTemporalThresholdMs = Hour, LearnOnline = false };
        using var detector = new SequenceDetector(options, model);
        detector.Process(Click("u", "e0", P, 0));
        detector.Process(Click("u", "e1", Q, 1));
        detector.Process(Click("u", "e2", R, 2));
        detector.Process(Click("u", "e3", T, 3));

        var (p, q, r, t) = (model.IndexOf(Item(P)), model.IndexOf(Item(Q)), model.IndexOf(Item(R)), model.IndexOf(Item(T)));
        var expected = model.LogProbability([q, r], t) - model.LogProbability([q, -1], t);
        var user = detector.GetUser("u")!;
        Assert.Equal(expected, user[2].LabelDelta);
        Assert.True(user[2].IsLabeled);
        // The shifted-window definition would give no label here: P predicts T as well as R does.
        Assert.True(model.LogProbability([q, r], t) - model.LogProbability([p, q], t) <= 1.0);
    }

    [Fact]
    public void Rank_without_evidence_is_no_decision_and_counted_separately()
    {
        // Item 9 has no neighbours; item 77 is unknown to the model.
        var model = Directed((0, 1, 5));
        model.Intern(Item(9));
        var options = new SequenceDetectorOptions { FixedTemporalThresholdMs = 10, BasketToleranceMs = 0, RankThreshold = 1, LearnOnline = false };
        using var detector = new SequenceDetector(options, model);
        detector.Process(Click("u", "e1", 9, 0, "toys"));
        var noContext = detector.Process(Click("u", "e2", 0, 100, "food")).Transition!.Value;   // TD + CD, context {9}: no evidence
        var unknown = detector.Process(Click("u", "e3", 77, 200, "tools")).Transition!.Value;   // TD + CD, unknown item

        Assert.Equal(RankStatus.NoContextEvidence, noContext.RankStatus);
        Assert.Equal(RankStatus.UnknownItem, unknown.RankStatus);
        Assert.Equal(GapReasonFlags.Temporal | GapReasonFlags.Category, noContext.Reasons);
        Assert.Equal(GapReasonFlags.Temporal | GapReasonFlags.Category, unknown.Reasons);
        Assert.False(noContext.IsGap(DetectionVariant.TemporalAndCategoryThenRank));
        var stats = detector.GetStatistics();
        Assert.Equal(2, stats.RankUndecided);
        Assert.Equal(0, stats.RankFired);
        Assert.Equal(1, stats.Unranked[RankStatus.NoContextEvidence]);
        Assert.Equal(1, stats.Unranked[RankStatus.UnknownItem]);
    }

    /// <summary>Two partitions with very different gaps: each publishes its sketch, and both end with the same T.</summary>
    internal static async Task<(FrozenThreshold First, FrozenThreshold Second, long LocalFirst, long LocalSecond)> TwoPartitionsFreeze(IGapSketchStore firstStore, IGapSketchStore secondStore)
    {
        var options = new SequenceDetectorOptions { TemporalWarmupGaps = 10, TemporalRefreshEvery = 1, BasketToleranceMs = 0, LearnOnline = false };
        const long epoch = 1000L * 24 * Hour;
        // Two processes (or two partitions of one): separate detectors and separate caches, one store.
        var first = new SharedTemporalThresholds(options, firstStore, epoch);
        var second = new SharedTemporalThresholds(options, secondStore, epoch);
        using var a = new SequenceDetector(options, Directed((0, 1, 1))) { SharedThresholds = first };
        using var b = new SequenceDetector(options, Directed((0, 1, 1))) { SharedThresholds = second };
        for (var i = 0; i < 50; i++)
        {
            a.Process(Click("short", $"a{i}", i % 3, i * 60_000L));        // 1-minute gaps
            b.Process(Click("long", $"b{i}", i % 3, i * 24 * Hour));       // 1-day gaps
        }
        await first.PublishAsync([(0, a)], CancellationToken.None);
        await second.PublishAsync([(1, b)], CancellationToken.None);
        // A click in the next epoch: each partition freezes (or reads) that epoch's T.
        await first.PrepareAsync(first.Needed("", epoch + 1), () => [(0, a)], CancellationToken.None);
        await second.PrepareAsync(second.Needed("", epoch + 1), () => [(1, b)], CancellationToken.None);
        var ta = a.Process(Click("short", "a-next", 1, epoch + 1)).Transition!.Value;
        var tb = b.Process(Click("long", "b-next", 1, epoch + 1)).Transition!.Value;
        Assert.Equal(ta.ThresholdMs, tb.ThresholdMs);   // recorded with each decision
        return (first.Frozen.Single(f => f.Epoch == 1), second.Frozen.Single(f => f.Epoch == 1), a.TemporalThreshold().ThresholdMs, b.TemporalThreshold().ThresholdMs);
    }

    [Fact]
    public async Task Two_partitions_end_with_the_same_T_for_a_domain()
    {
        var store = new InMemoryGapSketchStore(new SequenceDetectorOptions());
        var (first, second, localFirst, localSecond) = await TwoPartitionsFreeze(store, store);
        Assert.Equal(first, second);
        Assert.True(first.DataDriven);
        Assert.Equal(98, first.Gaps);   // both partitions' 49 gaps
        // The merged p95 is neither partition's own: 1-day gaps dominate the top 5 % of the union.
        Assert.NotEqual(localFirst, localSecond);
        Assert.InRange(first.ThresholdMs, 24 * Hour * 0.98, 24 * Hour * 1.02);
        Assert.InRange(localFirst, 60_000 * 0.98, 60_000 * 1.02);
    }

    [Fact]
    public void The_global_model_is_trained_over_every_user_in_time_order_deterministically()
    {
        var clicks = new List<TrainingClick>();
        for (var i = 0; i < 200; i++) clicks.Add(new TrainingClick($"u{i % 7}", Item(i % 11), i * 1000L));
        static byte[] Bytes(SwingCooccurrenceModel m)
        {
            using var s = new MemoryStream();
            m.WriteSnapshot(s);
            return s.ToArray();
        }
        var options = new SwingModelOptions { CoOccurrenceWindow = 2 };
        var trained = SwingModelTrainer.Train(clicks, options);
        Assert.Equal(Bytes(trained), Bytes(SwingModelTrainer.Train(clicks, options)));
        // The same as learning each click online after the user's previous two.
        var online = new SwingCooccurrenceModel(options);
        var history = new Dictionary<string, List<int>>();
        var counts = new Dictionary<string, long>();
        foreach (var c in clicks)
        {
            var h = history.TryGetValue(c.UserId, out var l) ? l : history[c.UserId] = [];
            counts[c.UserId] = counts.GetValueOrDefault(c.UserId) + 1;
            h.Add(online.Learn(h.Skip(Math.Max(0, h.Count - 2)).ToArray(), c.ItemId, c.TimestampMs, counts[c.UserId]));
        }
        Assert.Equal(Bytes(online), Bytes(trained));
    }
}
