using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Models.Dllm;
using ReaSeq.Processors.Dllm;
using static TorchSharp.torch;

namespace ReaSeq.Tests.Dllm;

public sealed class GapWindowTests
{
    private static SequenceUpdate Update(int items, int[] gaps, int[] labeled)
    {
        var update = new SequenceUpdate { UserId = "u", SequenceVersion = 7, Variant = "TemporalOrCategory", TsMs = 42 };
        update.Window.AddRange(Enumerable.Range(0, items).Select(i => new SequenceEntry { ItemId = $"i{i}", TsMs = i }));
        update.Gaps.AddRange(gaps.Select(g => new SequenceGap { Position = g, Reasons = [GapReason.TD] }));
        update.LabeledPositions.AddRange(labeled.Select(l => new LabeledPosition { Position = l, Delta = 1.5 }));
        return update;
    }

    [Fact]
    public void A_window_keeps_its_items_and_sorted_positions()
    {
        var window = GapWindow.From(Update(5, [3, 1], [4]), maxWindow: 10, maxTokens: 20);
        Assert.Equal(["i0", "i1", "i2", "i3", "i4"], window.Items);
        Assert.Equal([1, 3], window.Gaps);
        Assert.Equal([4], window.Labeled);
        Assert.Equal(7, window.TokenCount);
        Assert.Equal((7L, 42L), (window.SequenceVersion, window.TsMs));
    }

    [Theory]
    [InlineData(0, new int[0], "window is empty")]
    [InlineData(11, new int[0], "oversized")]
    [InlineData(9, new[] { 1, 2, 3, 4, 5, 6, 7, 8 }, "oversized")]
    [InlineData(4, new[] { 4 }, "outside the window")]
    [InlineData(4, new[] { 2, 2 }, "appears twice")]
    public void Windows_the_model_cannot_take_are_rejected_with_the_reason(int items, int[] gaps, string reason)
    {
        var error = Assert.Throws<ContractException>(() => GapWindow.From(Update(items, gaps, []), maxWindow: 10, maxTokens: 16));
        Assert.Equal(ErrorClasses.Validation, error.ErrorClass);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_item_without_a_vector_enters_as_a_masked_position_with_no_vector()
    {
        var window = GapWindow.From(Update(3, [2], []), maxWindow: 10, maxTokens: 16);
        var vectors = new Dictionary<string, float[]> { ["i0"] = [1, 0], ["i2"] = [1, 1] };
        var (batch, fills) = DllmBatch.Build([window], vectors.GetValueOrDefault, 2, rows: 1, length: 8, CPU);
        using (batch)
        {
            var kinds = batch[LladaTiny.PositionKindsField].data<long>().ToArray();
            Assert.Equal(new[] { PositionKind.Observed, PositionKind.LabeledFill, PositionKind.UnlabeledFill, PositionKind.Observed }.Select(k => (long)k), kinds.Take(4));
            Assert.Equal(new[] { false, true, false, false }, batch[LladaTiny.MaskField].data<bool>().ToArray().Take(4));
            Assert.Equal(new float[] { 1, 0, 0, 0, 0, 0, 1, 1 }, batch[LladaTiny.ItemVectorsField].data<float>().ToArray().Take(8));
            Assert.Equal([2], fills[0]);
        }
        var (allKnown, _) = DllmBatch.Build([window], id => new float[] { 1, 2 }, 2, rows: 1, length: 8, CPU);
        using (allKnown) Assert.False(allKnown.Contains(LladaTiny.MaskField));
    }

    [Fact]
    public void A_fill_token_is_inserted_before_every_item_that_follows_a_gap()
    {
        var window = GapWindow.From(Update(4, [1, 3], [2]), maxWindow: 10, maxTokens: 16);
        var vectors = new Dictionary<string, float[]>
        {
            ["i0"] = [1, 0],
            ["i1"] = [0, 1],
            ["i2"] = [1, 1],
            ["i3"] = [2, 0],
        };
        var (batch, fills) = DllmBatch.Build([window], id => vectors[id], 2, rows: 2, length: 8, CPU);
        using (batch)
        {
            var kinds = batch[LladaTiny.PositionKindsField].data<long>().ToArray();
            var expected = new[] { PositionKind.Observed, PositionKind.UnlabeledFill, PositionKind.Observed, PositionKind.LabeledFill, PositionKind.UnlabeledFill, PositionKind.Observed };
            Assert.Equal(expected.Select(k => (long)k), kinds.Take(6));
            Assert.All(kinds.Skip(6).Take(2), k => Assert.Equal((long)PositionKind.Padding, k));
            // The padding row holds one observed (zero) item so attention always has a key.
            Assert.Equal((long)PositionKind.Observed, kinds[8]);
            Assert.Equal([1, 4], fills[0]);
            var flat = batch[LladaTiny.ItemVectorsField].data<float>().ToArray();
            Assert.Equal(new float[] { 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 2, 0 }, flat.Take(12));
        }
    }

    [Fact]
    public void The_trainers_log_prior_is_each_items_smoothed_share_of_the_labeled_targets_and_rides_on_every_item_position()
    {
        // Items i0..i3; labeled: i2 in the first window, i2 and i0 in the second. Counts + 1 over 4 items: i0 2, i1 1, i2 3, i3 1; total 7.
        var first = GapWindow.From(Update(4, [1, 3], [2]), maxWindow: 10, maxTokens: 16);
        var second = GapWindow.From(Update(4, [], [0, 2]), maxWindow: 10, maxTokens: 16);
        var logPrior = DllmTrainer.TargetLogPrior([first, second]);
        Assert.Equal(Math.Log(2 / 7.0), logPrior("i0"), 5);
        Assert.Equal(Math.Log(1 / 7.0), logPrior("i1"), 5);
        Assert.Equal(Math.Log(3 / 7.0), logPrior("i2"), 5);
        Assert.Equal(Math.Log(1 / 7.0), logPrior("unknown"), 5);

        var (batch, _) = DllmBatch.Build([first], id => new float[] { 1, 0 }, 2, rows: 1, length: 8, CPU, logPrior);
        using (batch)
        {
            // Positions: i0, [FILL], i1, i2 (labeled), [FILL], i3, padding, padding.
            var prior = batch[LladaTiny.TargetLogPriorField].data<float>().ToArray();
            var expected = new[] { logPrior("i0"), 0, logPrior("i1"), logPrior("i2"), 0, logPrior("i3"), 0, 0 };
            Assert.Equal(expected, prior);
        }
        var (plain, _) = DllmBatch.Build([first], id => new float[] { 1, 0 }, 2, rows: 1, length: 8, CPU);
        using (plain) Assert.False(plain.Contains(LladaTiny.TargetLogPriorField));
    }

    [Fact]
    public void Buckets_depend_only_on_the_sequence_length()
    {
        Assert.Equal(16, DllmBatch.Bucket(1, 200));
        Assert.Equal(16, DllmBatch.Bucket(16, 200));
        Assert.Equal(64, DllmBatch.Bucket(50, 200));
        Assert.Equal(200, DllmBatch.Bucket(199, 200));
    }

    [Fact]
    public void Held_out_users_are_a_stable_share()
    {
        var users = Enumerable.Range(0, 10_000).Select(i => $"user-{i}").ToList();
        var share = users.Count(u => DllmTrainer.IsHeldOut(u, 10)) / (double)users.Count;
        Assert.InRange(share, 0.08, 0.12);
        Assert.Equal(users.Select(u => DllmTrainer.IsHeldOut(u, 10)), users.Select(u => DllmTrainer.IsHeldOut(u, 10)));
    }
}
