using static TorchSharp.torch;

namespace ReaSeq.Models.Ctr;

/// <summary>
/// Streaming BCE training with prequential evaluation (§2.2.2 Eq. 5): each mini-batch is scored by the current
/// weights first (those scores feed <see cref="Evaluation"/>), then trained on. Scoring and training share one
/// forward pass: the probabilities are read from the logits before the optimiser step changes anything.
/// </summary>
public sealed class OnlineCtrLearner : IDisposable
{
    private TorchSharp.Modules.OptimizerHelper _optimizer;

    /// <summary>Takes ownership of <paramref name="model"/>.</summary>
    public OnlineCtrLearner(CtrModel model, int evaluationWindow)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        _optimizer = NewOptimizer(model);
        Evaluation = new RollingCtrEvaluation(evaluationWindow);
    }

    private OnlineCtrLearner(CtrModel model, TorchSharp.Modules.OptimizerHelper optimizer, int evaluationWindow)
    {
        Model = model;
        _optimizer = optimizer;
        Evaluation = new RollingCtrEvaluation(evaluationWindow);
    }

    public CtrModel Model { get; private set; }

    public RollingCtrEvaluation Evaluation { get; }

    public long TrainedExamples { get; private set; }

    public long Steps { get; private set; }

    /// <summary>Mean BCE of the latest step (before its update).</summary>
    public float LastLoss { get; private set; } = float.NaN;

    /// <summary>Scores <paramref name="batch"/> (recorded for evaluation), then takes one optimiser step on it.</summary>
    public float[] Step(IReadOnlyList<CtrExample> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) return [];
        float[] scores;
        using (NewDisposeScope())
        {
            using var interaction = CtrBatchBuilder.Build(batch, Model.Options, Model.Device);
            Model.SetTraining(true);
            _optimizer.zero_grad();
            var logits = Model.forward(interaction);
            scores = logits.detach().sigmoid().cpu().data<float>().ToArray();
            var loss = nn.functional.binary_cross_entropy_with_logits(logits, interaction[CtrModel.LabelField]);
            loss.backward();
            _optimizer.step();
            LastLoss = loss.item<float>();
        }
        for (int i = 0; i < batch.Count; i++)
            Evaluation.Add(batch[i].User.UserId, scores[i], batch[i].Label, batch[i].User.ClickCount);
        TrainedExamples += batch.Count;
        Steps++;
        return scores;
    }

    /// <summary>Scores without training and without recording (held-out evaluation).</summary>
    public float[] Score(IReadOnlyList<CtrExample> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) return [];
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var interaction = CtrBatchBuilder.Build(batch, Model.Options, Model.Device);
        Model.SetTraining(false);
        return Model.forward(interaction).sigmoid().cpu().data<float>().ToArray();
    }

    /// <summary>Continues with other weights: a fresh optimiser; the evaluation window stays.</summary>
    public void Replace(CtrModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _optimizer.Dispose();
        Model.Dispose();
        Model = model;
        _optimizer = NewOptimizer(model);
    }

    /// <summary>
    /// The weights and the optimiser's state (Adam's first and second moments and its step count) as a checkpoint.
    /// Adam's update depends on both, so a learner resumed from weights alone would take different steps from one that
    /// never stopped (issue 10 §5/§8); with them it takes the very same ones.
    /// </summary>
    public byte[] SaveCheckpoint() => CtrModelCheckpoint.Save(Model, _optimizer.save_state_dict);

    /// <summary>A learner continuing from <paramref name="checkpoint"/>: its weights and, when saved, its optimiser state.</summary>
    public static OnlineCtrLearner Resume(byte[] checkpoint, string? device, int evaluationWindow)
    {
        var (model, optimizer) = Load(checkpoint, device);
        return new OnlineCtrLearner(model, optimizer, evaluationWindow);
    }

    /// <summary>Continues from <paramref name="checkpoint"/> (a rollback, a resume) as <see cref="Resume"/>; the evaluation window stays.</summary>
    public void Replace(byte[] checkpoint, string? device)
    {
        var (model, optimizer) = Load(checkpoint, device);
        _optimizer.Dispose();
        Model.Dispose();
        Model = model;
        _optimizer = optimizer;
    }

    private static (CtrModel Model, TorchSharp.Modules.OptimizerHelper Optimizer) Load(byte[] checkpoint, string? device)
    {
        TorchSharp.Modules.OptimizerHelper? optimizer = null;
        var model = CtrModelCheckpoint.LoadModel(checkpoint, device, (loaded, reader) =>
        {
            optimizer = NewOptimizer(loaded);
            try
            {
                optimizer.load_state_dict(reader);
            }
            catch
            {
                optimizer.Dispose();
                optimizer = null;
                throw;
            }
        });
        // A checkpoint written before the optimiser state was kept: a fresh optimiser, as before.
        return (model, optimizer ?? NewOptimizer(model));
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        Model.Dispose();
    }

    private static TorchSharp.Modules.OptimizerHelper NewOptimizer(CtrModel model)
    {
        var options = model.Options;
        return optim.Adam(model.TrainableParameters(), options.LearningRate, weight_decay: options.WeightDecay);
    }
}
