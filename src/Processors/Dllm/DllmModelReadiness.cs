using ReaSeq.Ingestors.Streaming.Operations;

namespace ReaSeq.Processors.Dllm;

/// <summary>
/// The dllm role's "model loaded" readiness condition (issue 12 §4; the filling job of paper §3.2.3): ready once the
/// filling job has a model version's checkpoint in memory. Before the deployment's first version the filling job
/// consumes nothing (<see cref="DllmFillWorker"/>), so the role is not ready then unless
/// <see cref="DllmOptions.ReadyWithoutModel"/> says that waiting is the expected state.
/// </summary>
public sealed class DllmModelReadiness(DllmFiller filler, DllmOptions options) : IReadinessContributor
{
    public string Name => "model:dllm";

    public Task<ReadinessCheck> CheckAsync(CancellationToken cancellationToken)
    {
        long loaded = filler.LoadedModelVersion;
        if (loaded > 0) return Task.FromResult(ReadinessCheck.Ok($"{DllmModelVersion.Label(loaded)} loaded"));
        const string Waiting = "no model version loaded yet; filling starts once the trainer has recorded one";
        return Task.FromResult(options.ReadyWithoutModel
            ? ReadinessCheck.Ok($"{Waiting} (Dllm:ReadyWithoutModel)")
            : ReadinessCheck.NotReady(Waiting));
    }
}
