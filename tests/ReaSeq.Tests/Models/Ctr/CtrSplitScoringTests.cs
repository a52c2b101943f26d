using ReaSeq.Models.Ctr;
using ReaSeq.Models.Training;
using ReaSeq.Tests.Infrastructure;
using static TorchSharp.torch;

namespace ReaSeq.Tests.Models.Ctr;

/// <summary>
/// The split scoring path (user step once, then all candidates in one batch; paper §2.2.1 "System Deployment") against
/// the model's full forward pass, the training path, on trained small models of every pathway configuration.
/// </summary>
[Collection(TorchCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class CtrSplitScoringTests
{
    private const float Tolerance = 1e-5f;

    public static TheoryData<string> Pathways() => new()
    {
        "base", "retrieval", "compression", "base+sid", "base+retrieval", "base+compression", "retrieval+compression+sid",
        "base+compression+sid", "base+retrieval+compression", "base+retrieval+compression+sid",
    };

    [Theory]
    [MemberData(nameof(Pathways))]
    public void Split_path_scores_equal_the_full_forward_on_a_trained_model(string pathways)
    {
        var device = TorchDevice.Resolve("cpu");
        using var model = Trained(pathways, device, 7);
        var examples = CtrModelFactory.SyntheticExamples(new Random(31), 60);
        var candidates = examples.Select(e => e.Candidate)
            .Append(new CtrCandidate("content-only", null, null, 2, 3, 40))
            .Append(new CtrCandidate("no-sid", examples[0].Candidate.KnowledgeVector, null, 1, 1, 0))
            .ToList();
        var fill = Enumerable.Range(0, CtrModelFactory.SmallDim).Select(i => (float)Math.Sin(i)).ToArray();
        var users = new List<CtrUserFeatures>
        {
            examples.First(e => e.User.History.Count >= 5).User,
            examples.First(e => e.User.History.Count >= 3).User with { Fills = [new CtrFill(1, fill), new CtrFill(99, fill)] },
            new("cold", [], null, null, 0),
            // Longer than MaxHistory (12) with repeats: truncation and one table row per distinct item.
            Long(examples),
        };

        foreach (var user in users)
        {
            using var scope = NewDisposeScope();
            using var batch = CtrBatchBuilder.Build(user, candidates, model.Options, device);
            var full = model.Predict(batch).data<float>().ToArray();
            using var state = model.EncodeUser(CtrBatchBuilder.BuildUser(user, model.Options, device));
            // DIN's hidden layer in blocks of candidates: automatic (here one block), one candidate each, uneven blocks.
            foreach (var block in new[] { 0, 1, 7 })
            {
                float[] split;
                using (inference_mode())
                    split = model.ForwardCandidates(state, CtrBatchBuilder.BuildCandidates(candidates, model.Options, device), block).sigmoid().data<float>().ToArray();

                Assert.Equal(full.Length, split.Length);
                for (int i = 0; i < full.Length; i++)
                {
                    Assert.True(MathF.Abs(full[i] - split[i]) <= Tolerance,
                        $"{pathways}, user {user.UserId}, DIN block {block}, candidate {i}: full {full[i]} vs split {split[i]}");
                }
            }
            // The model learnt something, so the comparison is not between constants.
            Assert.True(full.Max() - full.Min() > 0.05f, $"{pathways}: scores barely vary ({full.Min()}..{full.Max()})");
        }
    }

    [Fact]
    public void Scorer_split_path_matches_its_full_path_and_one_state_serves_any_candidates()
    {
        var device = TorchDevice.Resolve("cpu");
        using var model = Trained("base+retrieval+compression+sid", device, 3);
        using var scorer = CtrModelCheckpoint.Load(CtrModelCheckpoint.Save(model), "v-split");
        var examples = CtrModelFactory.SyntheticExamples(new Random(8), 40);
        var user = examples.First(e => e.User.History.Count >= 4).User;
        var candidates = examples.Select(e => e.Candidate).ToList();

        using var state = scorer.EncodeUser(user);
        var full = scorer.Score(user, candidates);
        var split = scorer.Score(state, candidates);
        Assert.All(full.Zip(split), p => Assert.InRange(MathF.Abs(p.First - p.Second), 0f, Tolerance));
        // Reused for other candidate lists (and concurrently): each candidate's score does not depend on the others.
        var results = new float[4][];
        Parallel.For(0, 4, i => results[i] = scorer.Score(state, candidates.Skip(i).Take(10).ToList()));
        for (int i = 0; i < 4; i++) Assert.Equal(split.Skip(i).Take(10).ToArray(), results[i], (a, b) => MathF.Abs(a - b) <= Tolerance);
        Assert.Empty(scorer.Score(state, []));
    }

    [Fact]
    public void Distinct_items_with_equal_vectors_are_retrieved_alike_on_both_paths()
    {
        // Catalog duplicates: different items (own semantic ids, so own keys and values) with equal knowledge vectors tie
        // in the GSU; which one is retrieved must not depend on the kernel that computed the cosines.
        var device = TorchDevice.Resolve("cpu");
        using var model = Trained("base+retrieval+compression+sid", device, 5);
        var examples = CtrModelFactory.SyntheticExamples(new Random(12), 40);
        var bases = examples.SelectMany(e => e.User.History).Distinct().Take(4).ToList();
        var history = new List<float[]>();
        var sids = new List<int[]?>();
        for (int i = 0; i < 12; i++)
        {
            history.Add([.. bases[i % bases.Count]]); // a new array with the same values: another item
            sids.Add([i % 4, i]);
        }
        var user = new CtrUserFeatures("duplicates", history, sids, null, 12);
        var candidates = examples.Select(e => e.Candidate).ToList();
        using var scope = NewDisposeScope();
        var full = model.Predict(CtrBatchBuilder.Build(user, candidates, model.Options, device)).data<float>().ToArray();
        using var state = model.EncodeUser(CtrBatchBuilder.BuildUser(user, model.Options, device));
        float[] split;
        using (inference_mode()) split = model.ForwardCandidates(state, CtrBatchBuilder.BuildCandidates(candidates, model.Options, device)).sigmoid().data<float>().ToArray();
        for (int i = 0; i < full.Length; i++) Assert.True(MathF.Abs(full[i] - split[i]) <= Tolerance, $"candidate {i}: full {full[i]} vs split {split[i]}");
    }

    [Fact]
    public void Split_path_scores_equal_the_full_forward_at_the_serving_shape()
    {
        // The default (paper) shape the API serves: 384-d vectors, 200 positions, the GSU's top-16 selected in managed
        // code on the split path and by libtorch's topk on the full path; a history longer than MaxHistory with repeated
        // items, and one shorter than K (every position retrieved). The cold user (padding) is in the theory above.
        var device = TorchDevice.Resolve("cpu");
        Determinism.Seed(17);
        using var model = CtrModel.Create(new CtrModelOptions());
        var random = new Random(23);
        int d = model.Options.ItemVectorDim;
        var items = Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, d).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var sids = Enumerable.Range(0, 300).Select(_ => new[] { random.Next(256), random.Next(256), random.Next(256) }).ToArray();
        var candidates = Enumerable.Range(0, 60).Select(i => random.Next(300))
            .Select(i => new CtrCandidate($"i{i}", items[i], sids[i], i % 40, i % 10, i)).ToList();
        foreach (var length in new[] { 260, 9 })
        {
            var history = Enumerable.Range(0, length).Select(_ => random.Next(300)).ToList();
            var user = new CtrUserFeatures($"u{length}", history.Select(i => items[i]).ToList(), history.Select(i => (int[]?)sids[i]).ToList(), null, length);
            using var scope = NewDisposeScope();
            var full = model.Predict(CtrBatchBuilder.Build(user, candidates, model.Options, device)).data<float>().ToArray();
            using var state = model.EncodeUser(CtrBatchBuilder.BuildUser(user, model.Options, device));
            float[] split;
            using (inference_mode()) split = model.ForwardCandidates(state, CtrBatchBuilder.BuildCandidates(candidates, model.Options, device)).sigmoid().data<float>().ToArray();
            for (int i = 0; i < full.Length; i++)
                Assert.True(MathF.Abs(full[i] - split[i]) <= Tolerance, $"history {length}, candidate {i}: full {full[i]} vs split {split[i]}");
            // The float32 screen (with its float64 near-tie decisions) selects exactly what the float64 product does.
            var vectors = tensor(candidates.SelectMany(c => c.KnowledgeVector!).ToArray(), [candidates.Count, d]);
            int k = (int)Math.Min(model.Options.RetrievalTopK, state.Length);
            Assert.Equal(CtrModel.GsuSelect(vectors, state, k, useScreen: false).Rows.data<long>().ToArray(), CtrModel.GsuSelect(vectors, state, k).Rows.data<long>().ToArray());
        }
    }

    [Fact]
    public void Cosines_float32_cannot_tell_apart_are_retrieved_in_float64_order_on_the_split_path()
    {
        // On the CPU the split path screens the GSU's cosines in float32 and decides near ties at the top-K boundary with
        // float64 keys (CtrModel.GsuSelect). Here K + 8 items lie around one direction with float64 cosines to the
        // candidate 2·10⁻⁸ apart (about 21 steps of the keys' 2⁻³⁰ grid), far below what a 384-term float32 product
        // resolves, so the K-th place falls among them; each has its own semantic id, so which ones are retrieved
        // changes the score.
        var device = TorchDevice.Resolve("cpu");
        Determinism.Seed(19);
        using var model = CtrModel.Create(new CtrModelOptions());
        int d = model.Options.ItemVectorDim, k = model.Options.RetrievalTopK;
        var random = new Random(41);
        double[] RandomUnit()
        {
            var v = Enumerable.Range(0, d).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            var norm = Math.Sqrt(v.Sum(x => x * x));
            return v.Select(x => x / norm).ToArray();
        }
        var direction = RandomUnit();
        var across = RandomUnit();
        var along = across.Zip(direction).Sum(p => p.First * p.Second);
        across = across.Select((x, i) => x - along * direction[i]).ToArray();
        var acrossNorm = Math.Sqrt(across.Sum(x => x * x));
        // cos(direction, direction + t·across) = 1 / √(1 + t²) ≈ 1 − t²/2: item j at 1 − 10⁻⁶ + j · 2·10⁻⁸.
        var near = Enumerable.Range(0, k + 8).Select(j =>
        {
            var t = Math.Sqrt(2 * (1e-6 - j * 2e-8));
            return direction.Select((x, i) => (float)(x + t * across[i] / acrossNorm)).ToArray();
        }).ToList();
        var others = Enumerable.Range(0, 40).Select(_ => RandomUnit().Select(x => (float)x).ToArray()).ToList();
        // Interleaved, the best of the near items oldest, so a newest-first tie-break of equal float32 values is wrong.
        var history = new List<float[]>();
        for (int i = 0; i < others.Count; i++)
        {
            if (i < near.Count) history.Add(near[near.Count - 1 - i]);
            history.Add(others[i]);
        }
        var sids = history.Select((_, i) => (int[]?)[i % 256, i * 7 % 256, i * 13 % 256]).ToList();
        var user = new CtrUserFeatures("near-ties", history, sids, null, history.Count);
        var target = direction.Select(x => (float)x).ToArray();
        var candidates = new List<CtrCandidate> { new("direction", target, [1, 2, 3], 1, 1, 1) };
        candidates.AddRange(others.Take(8).Select((v, i) => new CtrCandidate($"o{i}", v, [i, i, i], i, i, i)));

        // The premise: float32 cosines of the same unit vectors pick another top K than the float64 ones.
        using (var scope = NewDisposeScope())
        {
            var unit = nn.functional.normalize(tensor(history.SelectMany(v => v).ToArray(), [history.Count, d], ScalarType.Float64), p: 2, dim: 1);
            var query = nn.functional.normalize(tensor(target, [1, d]).to_type(ScalarType.Float64), p: 2, dim: 1);
            var exact = query.matmul(unit.t()).squeeze(0);
            var screen = query.to_type(ScalarType.Float32).matmul(unit.to_type(ScalarType.Float32).t()).squeeze(0);
            var byFloat64 = exact.topk(k).indexes.data<long>().Order().ToArray();
            var byFloat32 = screen.topk(k).indexes.data<long>().Order().ToArray();
            Assert.NotEqual(byFloat64, byFloat32);
        }

        // The screen's selection, row for row, is the float64 product's (the path of other devices), and so are the scores.
        using (var scope = NewDisposeScope())
        {
            using var state = model.EncodeUser(CtrBatchBuilder.BuildUser(user, model.Options, device));
            var vectors = tensor(candidates.SelectMany(c => c.KnowledgeVector!).ToArray(), [candidates.Count, d]);
            var screened = CtrModel.GsuSelect(vectors, state, k).Rows.data<long>().ToArray();
            var exact = CtrModel.GsuSelect(vectors, state, k, useScreen: false).Rows.data<long>().ToArray();
            Assert.Equal(exact, screened);
            var full = model.Predict(CtrBatchBuilder.Build(user, candidates, model.Options, device)).data<float>().ToArray();
            float[] split;
            using (inference_mode()) split = model.ForwardCandidates(state, CtrBatchBuilder.BuildCandidates(candidates, model.Options, device)).sigmoid().data<float>().ToArray();
            for (int i = 0; i < full.Length; i++) Assert.True(MathF.Abs(full[i] - split[i]) <= Tolerance, $"candidate {i}: full {full[i]} vs split {split[i]}");
        }
    }

    [Fact]
    public void A_state_of_another_model_is_refused()
    {
        var device = TorchDevice.Resolve("cpu");
        using var first = CtrModelFactory.CreateSmall(device, 1, _ => { });
        using var second = CtrModelFactory.CreateSmall(device, 2, _ => { });
        var examples = CtrModelFactory.SyntheticExamples(new Random(2), 4);
        using var state = first.EncodeUser(CtrBatchBuilder.BuildUser(examples[0].User, first.Options, device));
        using var candidates = CtrBatchBuilder.BuildCandidates([examples[0].Candidate], second.Options, device);
        var error = Assert.Throws<ArgumentException>(() => second.ForwardCandidates(state, candidates));
        Assert.Contains("another model", error.Message);
    }

    [Fact]
    public void Using_the_split_path_leaves_training_unchanged()
    {
        // Two identical models train on the same batches; one also scores through the split path between steps.
        var device = TorchDevice.Resolve("cpu");
        using var plain = CtrModelFactory.CreateSmall(device, 11, _ => { });
        using var scored = CtrModelFactory.CreateSmall(device, 11, _ => { });
        using var plainOptimizer = optim.Adam(plain.TrainableParameters(), 5e-3);
        using var scoredOptimizer = optim.Adam(scored.TrainableParameters(), 5e-3);
        var random = new Random(4);
        for (int step = 0; step < 5; step++)
        {
            var examples = CtrModelFactory.SyntheticExamples(random, 32);
            using var scope = NewDisposeScope();
            using (var state = scored.EncodeUser(CtrBatchBuilder.BuildUser(examples[0].User, scored.Options, device)))
                scored.ForwardCandidates(state, CtrBatchBuilder.BuildCandidates(examples.Select(e => e.Candidate).ToList(), scored.Options, device));
            float a = TrainingLoop.Step(plain, plainOptimizer, CtrBatchBuilder.Build(examples, plain.Options, device));
            float b = TrainingLoop.Step(scored, scoredOptimizer, CtrBatchBuilder.Build(examples, scored.Options, device));
            Assert.Equal(a, b);
        }
        foreach (var (p, q) in plain.parameters().Zip(scored.parameters()))
            Assert.True(p.eq(q).all().item<bool>(), "a parameter diverged after split-path scoring");
    }

    private static CtrModel Trained(string pathways, Device device, int seed)
    {
        var random = Determinism.Seed(seed);
        var model = CtrModelFactory.CreateSmall(device, seed, o =>
        {
            o.UseBase = pathways.Split('+').Contains("base");
            o.UseRetrieval = pathways.Contains("retrieval", StringComparison.Ordinal);
            o.UseCompression = pathways.Contains("compression", StringComparison.Ordinal);
            o.UseSid = pathways.Contains("sid", StringComparison.Ordinal);
        });
        using var optimizer = optim.Adam(model.TrainableParameters(), 5e-3);
        for (int step = 0; step < 40; step++)
        {
            using var scope = NewDisposeScope();
            TrainingLoop.Step(model, optimizer, CtrBatchBuilder.Build(CtrModelFactory.SyntheticExamples(random, 64), model.Options, device));
        }
        model.SetTraining(false);
        return model;
    }

    private static CtrUserFeatures Long(IReadOnlyList<CtrExample> examples)
    {
        var items = examples.SelectMany(e => e.User.History.Zip(e.User.HistorySemanticIds!)).Take(30).ToList();
        var history = items.Select(p => p.First).Concat(items.Take(5).Select(p => p.First)).ToList();
        var sids = items.Select(p => p.Second).Concat(items.Take(5).Select(p => p.Second)).ToList();
        return new CtrUserFeatures("long", history, sids, [new CtrFill(30, Enumerable.Repeat(0.3f, CtrModelFactory.SmallDim).ToArray())], 77);
    }
}
