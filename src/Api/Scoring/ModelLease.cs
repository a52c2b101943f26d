namespace ReaSeq.Api.Scoring;

/// <summary>A request's hold on one model version: every candidate of the request is scored by it, and its weights
/// stay alive until the lease ends even if a newer version was swapped in meanwhile.</summary>
public readonly struct ModelLease(ServingModel model) : IDisposable
{
    public ServingModel Model { get; } = model;

    public void Dispose() => Model.Release();
}
