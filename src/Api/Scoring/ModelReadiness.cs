using ReaSeq.Ingestors.Streaming.Operations;

namespace ReaSeq.Api.Scoring;

/// <summary>
/// /readyz condition of the api role: not ready until a CTR model version is loaded, since /v1/score answers 503 until
/// then and a load balancer should not send rankers here yet.
/// </summary>
public sealed class ModelReadiness(CtrModelHolder holder, ApiOptions options) : IReadinessContributor
{
    public string Name => $"model:{options.ModelName}";

    public Task<ReadinessCheck> CheckAsync(CancellationToken cancellationToken) =>
        Task.FromResult(holder.Current is { } model
            ? ReadinessCheck.Ok($"serving {model.Version}")
            : ReadinessCheck.NotReady("no CTR model version loaded yet"));
}
