using ReaSeq.Models.Ctr;
using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Tests.Trainer;

/// <summary>
/// Issue 10 §5/§8: a trainer checkpoint carries the optimiser's state (Adam's moments and step), so a trainer killed
/// after N mini-batches and resumed from its checkpoint ends M batches later with the very weights of one that trained
/// N + M batches without stopping.
/// </summary>
public sealed class TrainerResumeTests
{
    private const int N = 6, M = 6, BatchSize = 16;

    [Fact]
    public void A_resumed_learner_takes_the_same_steps_as_one_that_never_stopped()
    {
        TorchDevice.SetCpuThreads(1);
        var batches = Enumerable.Range(0, N + M).Select(b => CtrModelFactory.SyntheticExamples(new Random(100 + b), BatchSize)).ToList();
        byte[] initial;
        using (var model = CtrModelFactory.CreateSmall(TorchDevice.Resolve("cpu"), 7, _ => { })) initial = CtrModelCheckpoint.Save(model);

        using var uninterrupted = new OnlineCtrLearner(CtrModelCheckpoint.LoadModel(initial, "cpu"), 1_000);
        foreach (var batch in batches) uninterrupted.Step(batch);

        byte[] killedAt;
        using (var first = new OnlineCtrLearner(CtrModelCheckpoint.LoadModel(initial, "cpu"), 1_000))
        {
            foreach (var batch in batches.Take(N)) first.Step(batch);
            killedAt = first.SaveCheckpoint();
        }
        using var resumed = OnlineCtrLearner.Resume(killedAt, "cpu", 1_000);
        foreach (var batch in batches.Skip(N)) resumed.Step(batch);

        Assert.True(MaxDifference(uninterrupted.Model, resumed.Model) <= 1e-6, $"max |Δ| {MaxDifference(uninterrupted.Model, resumed.Model):E2}");

        // The test can tell: resuming from the weights alone (a fresh Adam) ends elsewhere.
        using var weightsOnly = new OnlineCtrLearner(CtrModelCheckpoint.LoadModel(killedAt, "cpu"), 1_000);
        foreach (var batch in batches.Skip(N)) weightsOnly.Step(batch);
        Assert.True(MaxDifference(uninterrupted.Model, weightsOnly.Model) > 1e-4, "a fresh optimiser should train differently");

        // Scoring readers ignore the training-state section: the weights score as the model that wrote them.
        using var scorer = CtrModelCheckpoint.Load(killedAt, "v");
        Assert.Equal(8, scorer.Score(batches[0][0].User, batches[0].Select(e => e.Candidate).Take(8).ToList()).Length);
    }

    private static double MaxDifference(CtrModel a, CtrModel b)
    {
        var left = a.state_dict();
        var right = b.state_dict();
        Assert.Equal(left.Keys.Order(StringComparer.Ordinal), right.Keys.Order(StringComparer.Ordinal));
        double max = 0;
        foreach (var (name, tensor) in left)
        {
            using var diff = (tensor.to_type(ScalarType.Float64) - right[name].to_type(ScalarType.Float64)).abs().max();
            max = Math.Max(max, diff.item<double>());
        }
        return max;
    }
}
