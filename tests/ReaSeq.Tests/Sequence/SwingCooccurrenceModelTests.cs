using ReaSeq.Processors.Sequence.Model;
using static ReaSeq.Tests.Sequence.SequenceTestData;

namespace ReaSeq.Tests.Sequence;

public sealed class SwingCooccurrenceModelTests
{
    [Fact]
    public void Rank_and_probability_match_a_brute_force_scoring_of_every_item()
    {
        var model = TrainedModel(40, seed: 3);
        var random = new Random(5);
        var decay = model.Options.RecencyDecay;
        for (var trial = 0; trial < 300; trial++)
        {
            var context = Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(-1, 40)).ToArray();
            var target = random.Next(-1, 40);
            // Brute force straight from the served rows.
            var scores = new double[model.ItemCount];
            var total = 0.0;
            for (var k = 0; k < context.Length; k++)
            {
                if (context[k] < 0) continue;
                var row = model.NeighboursOf(context[k]);
                if (row.Count == 0) continue;
                var weight = Math.Pow(decay, context.Length - 1 - k);
                total += weight;
                foreach (var (id, p) in row) scores[id] += weight * p;
            }
            var prediction = model.Predict(context, target);
            Assert.Equal(prediction.LogProbability, model.LogProbability(context, target));
            var uniform = 1.0 / (model.ItemCount + 1);
            var targetScore = target >= 0 ? scores[target] : 0;
            var expectedP = total == 0 ? uniform : (1 - model.Options.Smoothing) * targetScore / total + model.Options.Smoothing * uniform;
            Assert.Equal(Math.Log(expectedP), prediction.LogProbability, 1e-9);
            var expectedStatus = target < 0 ? RankStatus.UnknownItem : total == 0 ? RankStatus.NoContextEvidence : targetScore == 0 ? RankStatus.OutsideCandidates : RankStatus.Ranked;
            Assert.Equal(expectedStatus, prediction.Status);
            if (expectedStatus is RankStatus.Ranked or RankStatus.OutsideCandidates)
                Assert.Equal(1 + scores.Count(s => s > targetScore + 1e-12), prediction.Rank);
            else
                Assert.Equal(Prediction.Unranked, prediction.Rank);
        }
    }

    [Fact]
    public void Probabilities_over_the_vocabulary_and_the_unseen_slot_sum_to_one()
    {
        var model = TrainedModel(25, seed: 8);
        foreach (var context in new[] { new[] { 0 }, new[] { 3, 4, 5 }, new[] { -1, 7 }, Array.Empty<int>() })
        {
            var known = Enumerable.Range(0, model.ItemCount).Sum(j => Math.Exp(model.LogProbability(context, j)));
            var unseen = Math.Exp(model.LogProbability(context, -1));
            Assert.Equal(1.0, known + unseen, 1e-9);
        }
    }

    [Fact]
    public void Learns_co_clicks_and_re_clicks_and_ranks_the_learned_successor_first()
    {
        var model = new SwingCooccurrenceModel(new SwingModelOptions { CoOccurrenceWindow = 2 });
        for (var user = 1; user <= 10; user++)
        {
            var a = model.Learn([], "phone", user * 1000, 1);
            var b = model.Learn([a], "case", user * 1000 + 1, 2);
            model.Learn([a, b], "case", user * 1000 + 2, 3); // re-click: learned as a self-transition too
        }
        model.Learn([], "soup", 20_000, 1);
        var phone = model.IndexOf("phone");
        var @case = model.IndexOf("case");
        Assert.Equal(1, model.Predict([phone], @case).Rank);
        Assert.Equal(RankStatus.Ranked, model.Predict([@case], @case).Status);
        Assert.Equal(RankStatus.OutsideCandidates, model.Predict([phone], model.IndexOf("soup")).Status);
        Assert.Equal(RankStatus.NoContextEvidence, model.Predict([model.IndexOf("soup")], phone).Status);
        Assert.Equal(-1, model.IndexOf("never-seen"));
        Assert.Equal(RankStatus.UnknownItem, model.Predict([phone], -1).Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Directed_pairs_only_predict_successors_unless_symmetric(bool symmetric)
    {
        var model = new SwingCooccurrenceModel(new SwingModelOptions { Symmetric = symmetric });
        var a = model.Learn([], "a", 0, 1);
        var b = model.Learn([a], "b", 1, 2);
        Assert.Equal(RankStatus.Ranked, model.Predict([a], b).Status);
        Assert.Equal(symmetric ? RankStatus.Ranked : RankStatus.NoContextEvidence, model.Predict([b], a).Status);
    }

    [Fact]
    public void Memory_per_item_is_bounded_by_max_neighbours()
    {
        var options = new SwingModelOptions { MaxNeighbours = 8, TopNeighbours = 4, CoOccurrenceWindow = 1 };
        var model = new SwingCooccurrenceModel(options);
        var hub = model.Learn([], "hub", 0, 1);
        for (var i = 0; i < 500; i++) model.Learn([hub], $"spoke-{i}", i + 1, 2);
        Assert.InRange(model.StoredNeighbourCount(hub), 1, options.MaxNeighbours + 4);
        Assert.Equal(options.TopNeighbours, model.NeighboursOf(hub).Count);
        Assert.Equal(1.0, model.NeighboursOf(hub).Sum(n => n.Value), 1e-12);
    }

    [Fact]
    public void Time_decay_lets_recent_co_clicks_overtake_older_ones()
    {
        static int RankOfRecent(long? halfLife)
        {
            var model = new SwingCooccurrenceModel(new SwingModelOptions { HalfLifeMs = halfLife, CoOccurrenceWindow = 1, CacheRefreshEvery = 1 });
            var a = model.Learn([], "a", 0, 1);
            for (var i = 0; i < 3; i++) model.Learn([a], "old", 1 + i, 2);
            model.Learn([a], "recent", 10_000, 2);
            return model.Predict([a], model.IndexOf("recent")).Rank;
        }
        Assert.Equal(2, RankOfRecent(null));
        Assert.Equal(1, RankOfRecent(1_000));
    }

    [Fact]
    public void Long_runs_rescale_weights_without_losing_the_ranking()
    {
        var model = new SwingCooccurrenceModel(new SwingModelOptions { HalfLifeMs = 1, CoOccurrenceWindow = 1, CacheRefreshEvery = 1 });
        var a = model.Learn([], "a", 0, 1);
        for (var t = 1; t <= 5_000; t++) model.Learn([a], t % 2 == 0 ? "even" : "odd", t, 2);
        var prediction = model.Predict([a], model.IndexOf("even"));
        Assert.True(double.IsFinite(prediction.LogProbability));
        Assert.Equal(1, prediction.Rank);
        Assert.Equal(2, model.Predict([a], model.IndexOf("odd")).Rank);
    }

    [Fact]
    public void Snapshot_round_trips_exactly_and_refuses_other_settings()
    {
        var model = TrainedModel(30, seed: 21);
        using var first = new MemoryStream();
        model.WriteSnapshot(first);
        var restored = new SwingCooccurrenceModel(model.Options);
        restored.RestoreSnapshot(new MemoryStream(first.ToArray()));
        using var second = new MemoryStream();
        restored.WriteSnapshot(second);
        Assert.Equal(first.ToArray(), second.ToArray());

        // Both continue identically.
        for (var i = 0; i < 50; i++)
        {
            var context = new[] { i % 30, (i * 7) % 30 };
            model.Learn(context, Item((i * 3) % 35), 1_000_000 + i, 5);
            restored.Learn(context, Item((i * 3) % 35), 1_000_000 + i, 5);
            Assert.Equal(model.Predict(context, i % 30), restored.Predict(context, i % 30));
        }

        var other = new SwingCooccurrenceModel(new SwingModelOptions { MaxNeighbours = 8, TopNeighbours = 7, CoOccurrenceWindow = 3, CacheRefreshEvery = 3 });
        var error = Assert.Throws<InvalidDataException>(() => other.RestoreSnapshot(new MemoryStream(first.ToArray())));
        Assert.Contains("TopNeighbours", error.Message);
        Assert.Throws<InvalidDataException>(() => other.RestoreSnapshot(new MemoryStream("nonsense"u8.ToArray())));
    }

    [Fact]
    public void Invalid_options_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SwingCooccurrenceModel(new SwingModelOptions { Smoothing = 0 }));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SwingCooccurrenceModel(new SwingModelOptions { MaxNeighbours = 4, TopNeighbours = 8 }));
        Assert.Contains("at least TopNeighbours", error.Message);
    }
}
