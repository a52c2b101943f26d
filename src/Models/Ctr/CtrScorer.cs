using static TorchSharp.torch;

namespace ReaSeq.Models.Ctr;

/// <summary>
/// <see cref="ICtrScorer"/> over one <see cref="CtrModel"/>. Scoring only reads the weights (no_grad, and the model
/// has no dropout or batch statistics), so concurrent callers run in parallel; the split path (user state, then
/// candidates) runs under inference mode; a reader lock only keeps
/// <see cref="Dispose"/> from freeing the weights under a running call.
/// </summary>
internal sealed class CtrScorer : ICtrScorer
{
    private readonly CtrModel _model;
    private readonly CtrModelOptions _options;
    private readonly ReaderWriterLockSlim _lifetime = new();
    private bool _disposed;

    public CtrScorer(CtrModel model, string version)
    {
        _model = model;
        _options = model.Options;
        _model.SetTraining(false);
        Version = version;
    }

    public string Version { get; }

    public float[] Score(CtrUserFeatures user, IReadOnlyList<CtrCandidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0) return [];
        return WhileAlive(() =>
        {
            using var _ = no_grad();
            using var batch = CtrBatchBuilder.Build(user, candidates, _options, _model.Device);
            return _model.forward(batch).sigmoid().cpu().data<float>().ToArray();
        });
    }

    public CtrUserState EncodeUser(CtrUserFeatures user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return WhileAlive(() =>
        {
            using var _ = inference_mode();
            using var batch = CtrBatchBuilder.BuildUser(user, _options, _model.Device);
            return _model.EncodeUser(batch);
        });
    }

    public float[] Score(CtrUserState user, IReadOnlyList<CtrCandidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0) return [];
        return WhileAlive(() =>
        {
            using var _ = inference_mode();
            using var batch = CtrBatchBuilder.BuildCandidates(candidates, _options, _model.Device);
            return _model.ForwardCandidates(user, batch).sigmoid().cpu().data<float>().ToArray();
        });
    }

    /// <summary>Runs <paramref name="work"/> under the reader lock, in a dispose scope, unless the weights are freed already.</summary>
    private T WhileAlive<T>(Func<T> work)
    {
        _lifetime.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var scope = NewDisposeScope();
            return work();
        }
        finally
        {
            _lifetime.ExitReadLock();
        }
    }

    public void Dispose()
    {
        _lifetime.EnterWriteLock();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _model.Dispose();
        }
        finally
        {
            _lifetime.ExitWriteLock();
        }
    }
}
