using ReaSeq.Models.Ctr;

namespace ReaSeq.Api.Scoring;

/// <summary>One loaded CTR model version: its scorer and the options it was trained with (vector width, history length).</summary>
public sealed class ServingModel(ICtrScorer scorer, CtrModelOptions options, string version, long seq) : IDisposable
{
    private int _references = 1;

    public ICtrScorer Scorer { get; } = scorer;

    public CtrModelOptions Options { get; } = options;

    public string Version { get; } = version;

    /// <summary>Registry order (ctr_models.seq, ModelVersion.version).</summary>
    public long Seq { get; } = seq;

    public DateTimeOffset LoadedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Takes a reference unless the model was already released by its last holder.</summary>
    internal bool TryRetain()
    {
        while (true)
        {
            var current = Volatile.Read(ref _references);
            if (current == 0) return false;
            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current) return true;
        }
    }

    /// <summary>Drops a reference; the last one frees the weights.</summary>
    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0) Scorer.Dispose();
    }

    /// <summary>The holder's own reference.</summary>
    public void Dispose() => Release();
}
