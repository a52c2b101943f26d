using ReaSeq.Models.Dllm;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;
using ReaSeq.Tools.Eval.Gbr;

namespace ReaSeq.Tests.Eval;

public sealed class GbrWindowBuilderTests
{
    private const DetectionVariantFlags Td = DetectionVariantFlags.Temporal | DetectionVariantFlags.TemporalOrCategory;
    private const DetectionVariantFlags Cd = DetectionVariantFlags.Category | DetectionVariantFlags.TemporalOrCategory;

    private static readonly GbrUserSequence User = new("u1",
    [
        new("e0", "a", 0, DetectionVariantFlags.None, false),
        new("e1", "b", 1, Cd, true),
        new("e2", "c", 2, Td, false),
        new("e3", "d", 3, Cd, true),   // the first event of the second window: no [FILL] before it
        new("e4", "e", 4, Td | Cd, false),
        new("e5", "f", 5, DetectionVariantFlags.None, false),
        new("e6", "g", 6, Cd, false),  // a window with no labeled event
    ]);

    private static int Row(string item) => item[0] - 'a';

    [Fact]
    public void Fills_go_before_the_events_a_gap_leads_into_and_labeled_events_become_labeled_fills()
    {
        var windows = GbrWindowBuilder.Build(User, DetectionVariant.Category, 3, Row).ToList();

        Assert.Equal(2, windows.Count); // e6 alone is too short, and it has no label
        var first = windows[0];
        Assert.Equal([PositionKind.Observed, PositionKind.UnlabeledFill, PositionKind.LabeledFill, PositionKind.Observed], first.Kinds);
        Assert.Equal([0, -1, 1, 2], first.Items);
        Assert.Equal([0, 1, 1, 2], first.Events);
        var second = windows[1];
        Assert.Equal([PositionKind.LabeledFill, PositionKind.UnlabeledFill, PositionKind.Observed, PositionKind.Observed], second.Kinds);
        Assert.Equal([3, 4, 4, 5], second.Events);
        Assert.All(windows, w => Assert.Contains(true, w.EvalMask));
        Assert.All(windows, w => Assert.All(w.EvalMask.Select((m, p) => (m, p)).Where(x => x.m), x => Assert.Equal(PositionKind.LabeledFill, w.Kinds[x.p])));
    }

    [Fact]
    public void Every_variant_sees_the_same_events_and_the_same_masks()
    {
        var none = GbrWindowBuilder.Build(User, null, 3, Row).ToList();
        foreach (var variant in new[] { DetectionVariant.Temporal, DetectionVariant.Category, DetectionVariant.TemporalOrCategory })
        {
            var windows = GbrWindowBuilder.Build(User, variant, 3, Row).ToList();
            Assert.Equal(none.Count, windows.Count);
            for (int w = 0; w < windows.Count; w++)
            {
                var observed = Enumerable.Range(0, windows[w].Length).Where(p => windows[w].Kinds[p] != PositionKind.UnlabeledFill).ToList();
                Assert.Equal(none[w].Events, observed.Select(p => windows[w].Events[p]));
                Assert.Equal(none[w].EvalMask, observed.Select(p => windows[w].EvalMask[p]));
            }
        }
        Assert.Equal(0, none.Sum(w => w.Fills));
        // e1 (CD) and e2 (TD) in the first window, e4 (TD and CD) in the second; none before e3, the second window's first event.
        Assert.Equal(3, GbrWindowBuilder.Build(User, DetectionVariant.TemporalOrCategory, 3, Row).Sum(w => w.Fills));
        Assert.Equal(2, GbrWindowBuilder.Build(User, DetectionVariant.Temporal, 3, Row).Sum(w => w.Fills)); // e2 and e4
    }

    [Fact]
    public void Items_without_a_vector_are_left_out_and_unlabeled_windows_kept_when_asked()
    {
        var windows = GbrWindowBuilder.Build(User, null, 3, item => item == "b" ? -1 : Row(item), requireLabel: false).ToList();

        Assert.Equal([0, 2, 3], windows[0].Events);
        Assert.DoesNotContain(windows.SelectMany(w => w.Events), e => e == 1);
        Assert.Equal(2, windows.Count); // e0 e2 e3 | e4 e5 e6
        Assert.Contains(windows, w => !w.EvalMask.Contains(true));
    }

    [Fact]
    public void Overlapping_windows_give_every_gap_exactly_one_fill_with_an_event_on_both_sides()
    {
        var windows = GbrWindowBuilder.Build(User, DetectionVariant.TemporalOrCategory, 3, Row, requireLabel: false, overlapping: true).ToList();

        // e0 e1 e2 | e2 e3 e4 | e4 e5 e6: consecutive windows share their boundary event.
        Assert.Equal(3, windows.Count);
        Assert.Equal([0, 1, 1, 2, 2], windows[0].Events);
        Assert.Equal([2, 3, 3, 4, 4], windows[1].Events);
        Assert.Equal([4, 5, 6, 6], windows[2].Events);
        var filled = windows.SelectMany(w => Enumerable.Range(0, w.Length).Where(p => w.Kinds[p] == PositionKind.UnlabeledFill).Select(p => w.Events[p])).ToList();
        // Every TDCD gap once, e3 included (without overlap it opens a window and gets none).
        Assert.Equal([1, 2, 3, 4, 6], filled);
        Assert.All(windows, w => Assert.NotEqual(PositionKind.UnlabeledFill, w.Kinds[0]));
        Assert.All(windows, w => Assert.NotEqual(PositionKind.UnlabeledFill, w.Kinds[^1]));
    }

    [Fact]
    public void The_hold_out_is_a_stable_share_of_users()
    {
        var users = Enumerable.Range(0, 4000).Select(i => $"user-{i}").ToList();
        int heldOut = users.Count(u => GbrWindowBuilder.IsHeldOut(u, 0.2));

        Assert.InRange(heldOut, 700, 900);
        Assert.Equal(users.Where(u => GbrWindowBuilder.IsHeldOut(u, 0.2)), users.Where(u => GbrWindowBuilder.IsHeldOut(u, 0.2)));
        Assert.Equal(GbrWindowBuilder.StableSeed("abc", 7), GbrWindowBuilder.StableSeed("abc", 7));
    }

    [Fact]
    public void Detection_keeps_each_events_final_gap_and_label_in_time_order()
    {
        var options = new SequenceDetectorOptions { FixedTemporalThresholdMs = 1000, BasketToleranceMs = 0, LearnOnline = false };
        var model = SwingModelTrainer.Train([], new SwingModelOptions());
        SequenceClick[] clicks =
        [
            new("u", "e0", "a", 0, "X"),
            new("v", "f0", "a", 10, "X"),
            new("u", "e1", "b", 500, "Y"),   // CD
            new("u", "e2", "c", 5000, "Y"),  // TD
            new("u", "e3", "d", 7000, "X"),  // TD and CD
        ];

        var detection = GbrDetection.Run(clicks, options, model, default);

        Assert.Equal(["u", "v"], detection.Users.Select(u => u.UserId));
        var u = detection.Users[0].Events;
        Assert.Equal(["e0", "e1", "e2", "e3"], u.Select(e => e.EventId));
        Assert.False(u[0].IsGap(DetectionVariant.TemporalOrCategory));
        Assert.True(u[1].IsGap(DetectionVariant.Category) && !u[1].IsGap(DetectionVariant.Temporal));
        Assert.True(u[2].IsGap(DetectionVariant.Temporal) && !u[2].IsGap(DetectionVariant.Category));
        Assert.True(u[3].IsGap(DetectionVariant.Temporal) && u[3].IsGap(DetectionVariant.Category) && u[3].IsGap(DetectionVariant.TemporalOrCategory));
        Assert.Equal(3, detection.Statistics.For(DetectionVariant.TemporalOrCategory).Gaps);
    }
}
