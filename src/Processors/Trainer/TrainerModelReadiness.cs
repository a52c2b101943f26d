using ReaSeq.Ingestors.Streaming.Operations;

namespace ReaSeq.Processors.Trainer;

/// <summary>
/// The trainer's "model loaded" readiness condition (issue 12 §4). The leader is ready once it has loaded the
/// registry's active version or initialised fresh weights (it does so when its consumer job is assigned the
/// impressions). A standby is ready without a model: it trains nothing and loads the model when it takes over, and a
/// standby held "not ready" for ever would block every rollout of a deployment that runs two trainers.
/// </summary>
public sealed class TrainerModelReadiness(CtrTrainerProcessor trainer, TrainerMetrics metrics) : IReadinessContributor
{
    public string Name => "model:ctr";

    public Task<ReadinessCheck> CheckAsync(CancellationToken cancellationToken)
    {
        if (!metrics.IsLeader) return Task.FromResult(ReadinessCheck.Ok("standby: another trainer leads, or the lock is not taken yet; the model loads on taking over"));
        return Task.FromResult(trainer.ModelLoaded
            ? ReadinessCheck.Ok($"leader, weights from {trainer.BaseVersion ?? "fresh initialisation"}")
            : ReadinessCheck.NotReady("leader: loading the active version (or initialising fresh weights)"));
    }
}
