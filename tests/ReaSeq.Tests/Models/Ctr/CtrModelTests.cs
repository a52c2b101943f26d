using ReaSeq.Models.Ctr;
using ReaSeq.Models.Training;
using ReaSeq.Tests.Infrastructure;
using static TorchSharp.torch;

namespace ReaSeq.Tests.Models.Ctr;

[Collection(TorchCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class CtrModelTests
{
    public static TheoryData<string> Pathways() => new() { "base", "base+retrieval", "base+compression", "base+compression+sid", "base+retrieval+compression+sid", "retrieval", "compression+sid" };

    [Theory]
    [MemberData(nameof(Pathways))]
    public void Every_pathway_trains_and_learns_the_synthetic_signal(string pathways)
    {
        var random = Determinism.Seed(5);
        var device = TorchDevice.Resolve("cpu");
        using var model = CtrModelFactory.CreateSmall(device, 5, o => Configure(o, pathways));
        Assert.Equal(pathways, model.Options.PathwayName);
        using var optimizer = optim.Adam(model.TrainableParameters(), 5e-3);
        for (int step = 0; step < 60; step++)
        {
            using var batch = CtrBatchBuilder.Build(CtrModelFactory.SyntheticExamples(random, 64), model.Options, device);
            float loss = TrainingLoop.Step(model, optimizer, batch);
            Assert.True(float.IsFinite(loss), $"{pathways}: loss {loss} at step {step}.");
        }
        var heldOut = CtrModelFactory.SyntheticExamples(new Random(99), 400);
        model.SetTraining(false);
        using var test = CtrBatchBuilder.Build(heldOut, model.Options, device);
        using var scores = model.Predict(test);
        double auc = Auc(scores.data<float>().ToArray(), heldOut.Select(e => e.Label).ToArray());
        Assert.True(auc > 0.7, $"{pathways}: held-out AUC {auc:F3}; the synthetic world's signal is in the sequence.");
    }

    [Fact]
    public void Checkpoint_round_trip_scores_identically_and_keeps_the_pathways()
    {
        var device = TorchDevice.Resolve("cpu");
        using var model = CtrModelFactory.CreateSmall(device, 3, o => o.UseRetrieval = false);
        var examples = CtrModelFactory.SyntheticExamples(new Random(1), 20);
        var user = examples[0].User with { Fills = [new CtrFill(1, Enumerable.Repeat(0.5f, CtrModelFactory.SmallDim).ToArray())] };
        var candidates = examples.Select(e => e.Candidate).Append(new CtrCandidate("unknown", null, null, 0, 0, 0)).ToList();

        byte[] bytes = CtrModelCheckpoint.Save(model);
        using var scorer = CtrModelCheckpoint.Load(bytes, "v-test");
        Assert.Equal("v-test", scorer.Version);
        model.SetTraining(false);
        using var batch = CtrBatchBuilder.Build(user, candidates, model.Options, device);
        using var direct = model.Predict(batch);
        float[] loaded = scorer.Score(user, candidates);

        Assert.Equal(direct.data<float>().ToArray(), loaded);
        Assert.All(loaded, p => Assert.InRange(p, 0f, 1f));
        Assert.False(CtrModelCheckpoint.ReadOptions(bytes).UseRetrieval);
        Assert.Throws<InvalidDataException>(() => CtrModelCheckpoint.Load([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], "bad"));
    }

    [Fact]
    public void Din_reads_only_its_window_of_the_newest_positions_on_both_paths()
    {
        var device = TorchDevice.Resolve("cpu");
        using var model = CtrModelFactory.CreateSmall(device, 6, o =>
        {
            Configure(o, "base");
            o.DinHistory = 4;
        });
        var examples = CtrModelFactory.SyntheticExamples(new Random(3), 40);
        var candidates = examples.Select(e => e.Candidate).ToList();
        // Ten distinct items, oldest first: positions 0–5 are outside DIN's window of 4, positions 6–9 inside.
        var vectors = candidates.Select(c => c.KnowledgeVector!).Distinct().ToList();
        var user = new CtrUserFeatures("u", vectors.Take(10).ToList(), null, null, 10);
        var other = vectors[10];
        const int oldest = 0, outside = 5, newest = 9;

        float[] Scores(CtrUserFeatures features)
        {
            using var scope = NewDisposeScope();
            var full = model.Predict(CtrBatchBuilder.Build(features, candidates, model.Options, device)).data<float>().ToArray();
            using var state = model.EncodeUser(CtrBatchBuilder.BuildUser(features, model.Options, device));
            using var mode = inference_mode();
            var split = model.ForwardCandidates(state, CtrBatchBuilder.BuildCandidates(candidates, model.Options, device)).sigmoid().data<float>().ToArray();
            for (int i = 0; i < full.Length; i++) Assert.True(MathF.Abs(full[i] - split[i]) <= 1e-5f, $"candidate {i}: full {full[i]} vs split {split[i]}");
            return full;
        }
        CtrUserFeatures Replaced(int position) =>
            user with { History = user.History.Select((v, i) => i == position ? other : v).ToList() };

        var before = Scores(user);
        // Base pathway only: a position older than the window cannot change a score, the newest one does.
        Assert.Equal(before, Scores(Replaced(outside)));
        Assert.Equal(before, Scores(Replaced(oldest)));
        Assert.NotEqual(before, Scores(Replaced(newest)));
    }

    [Fact]
    public void Scorer_is_safe_for_concurrent_readers_and_handles_cold_users()
    {
        var device = TorchDevice.Resolve("cpu");
        using var model = CtrModelFactory.CreateSmall(device, 4, _ => { });
        using var scorer = CtrModelCheckpoint.Load(CtrModelCheckpoint.Save(model), "v1");
        var examples = CtrModelFactory.SyntheticExamples(new Random(2), 8);
        var candidates = examples.Select(e => e.Candidate).ToList();
        var cold = new CtrUserFeatures("cold", []);
        float[] expected = scorer.Score(examples[0].User, candidates);
        var results = new float[8][];
        Parallel.For(0, 8, i => results[i] = scorer.Score(examples[0].User, candidates));
        Assert.All(results, r => Assert.Equal(expected, r));
        Assert.Equal(candidates.Count, scorer.Score(cold, candidates).Length);
        Assert.Empty(scorer.Score(cold, []));
    }

    [Fact]
    public void Fills_are_inserted_before_their_history_index_and_the_newest_entries_are_kept()
    {
        float[] a = [1], b = [2], c = [3], f0 = [10], f2 = [12], fEnd = [13];
        var user = new CtrUserFeatures("u", [a, b, c], null, [new CtrFill(2, f2), new CtrFill(0, f0), new CtrFill(9, fEnd)]);
        var slots = CtrBatchBuilder.Sequence(user, maxHistory: 10);
        Assert.Equal(new[] { f0, a, b, f2, c, fEnd }, slots.Select(s => s.Vector));
        Assert.Equal(new[] { true, false, false, true, false, true }, slots.Select(s => s.IsFill));
        Assert.Equal(new[] { f2, c, fEnd }, CtrBatchBuilder.Sequence(user, maxHistory: 3).Select(s => s.Vector));
        Assert.Throws<ArgumentException>(() => CtrBatchBuilder.Sequence(user with { HistorySemanticIds = [null] }, 10));
    }

    [Fact]
    public void Grouped_gsu_retrieves_as_the_per_row_gsu_when_users_repeat_across_rows()
    {
        var random = Determinism.Seed(8);
        var device = TorchDevice.Resolve("cpu");
        using var model = CtrModelFactory.CreateSmall(device, 8, o => Configure(o, "base+retrieval+compression+sid"));
        model.SetTraining(false);
        // Users with 1 to 5 impressions each, interleaved, so the groups are ragged and their rows not adjacent.
        var examples = CtrModelFactory.SyntheticExamples(random, 120).ToList();
        var shared = new List<CtrExample>();
        for (int i = 0; i < examples.Count; i++) shared.Add(examples[i] with { User = examples[i / 5 * 5 + (i * 7 % 5) % (1 + i % 5)].User });
        shared = [.. shared.OrderBy(_ => random.Next())];
        using var batch = CtrBatchBuilder.Build(shared, model.Options, device);
        Assert.True(batch.Contains(CtrModel.HistoryGroupField));
        // The same batch without the grouping: the GSU gathers each row's history itself.
        var perRow = new Interaction(batch.Fields.Where(f => f != CtrModel.HistoryGroupField).Select(f => KeyValuePair.Create(f, batch[f])));
        using var grouped = model.Predict(batch);
        using var rows = model.Predict(perRow);
        Assert.Equal(rows.data<float>().ToArray(), grouped.data<float>().ToArray());
    }

    [Fact]
    public void Grouped_din_and_compression_score_and_train_as_per_row_when_users_have_equal_rows()
    {
        var random = Determinism.Seed(9);
        var device = TorchDevice.Resolve("cpu");
        using var model = CtrModelFactory.CreateSmall(device, 9, o => Configure(o, "base+retrieval+compression+sid"));
        // 30 users with 4 candidates each, shuffled: the batch fills the per-user grid exactly, so DIN scores each
        // user's candidates against its sequence gathered once and compression runs once per user.
        var examples = CtrModelFactory.SyntheticExamples(random, 120).ToList();
        var shared = examples.Select((e, i) => e with { User = examples[i / 4 * 4].User }).OrderBy(_ => random.Next()).ToList();
        using var batch = CtrBatchBuilder.Build(shared, model.Options, device);
        var perRow = new Interaction(batch.Fields.Where(f => f != CtrModel.HistoryGroupField).Select(f => KeyValuePair.Create(f, batch[f])));

        float[] Gradients(Interaction input, out float[] logits)
        {
            model.zero_grad();
            using var output = model.forward(input);
            logits = output.detach().data<float>().ToArray();
            using var loss = nn.functional.binary_cross_entropy_with_logits(output, input[CtrModel.LabelField]);
            loss.backward();
            return model.parameters().SelectMany(p => p.grad is null ? [] : p.grad.data<float>().ToArray()).ToArray();
        }

        var rowGradients = Gradients(perRow, out var rowLogits);
        var groupedGradients = Gradients(batch, out var groupedLogits);
        for (int i = 0; i < rowLogits.Length; i++) Assert.Equal(rowLogits[i], groupedLogits[i], 1e-6f);
        Assert.Equal(rowGradients.Length, groupedGradients.Length);
        for (int i = 0; i < rowGradients.Length; i++) Assert.Equal(rowGradients[i], groupedGradients[i], 1e-6f);
    }

    private static void Configure(CtrModelOptions options, string pathways)
    {
        var on = pathways.Split('+').ToHashSet();
        options.UseBase = on.Contains("base");
        options.UseRetrieval = on.Contains("retrieval");
        options.UseCompression = on.Contains("compression");
        options.UseSid = on.Contains("sid");
    }

    /// <summary>Mann–Whitney AUC, ties counted half.</summary>
    private static double Auc(float[] scores, float[] labels)
    {
        double pairs = 0, wins = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (labels[i] != 1) continue;
            for (int j = 0; j < scores.Length; j++)
            {
                if (labels[j] != 0) continue;
                pairs++;
                wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
            }
        }
        return wins / pairs;
    }
}
