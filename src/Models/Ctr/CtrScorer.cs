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
        _lifetime.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var batch = CtrBatchBuilder.Build(user, candidates, _options, _model.Device);
            return _model.forward(batch).sigmoid().cpu().data<float>().ToArray();
        }
        finally
        {
            _lifetime.ExitReadLock();
        }
    }

    public CtrUserState EncodeUser(CtrUserFeatures user)
    {
        ArgumentNullException.ThrowIfNull(user);
        _lifetime.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            using var batch = CtrBatchBuilder.BuildUser(user, _options, _model.Device);
            return _model.EncodeUser(batch);
        }
        finally
        {
            _lifetime.ExitReadLock();
        }
    }

    public float[] Score(CtrUserState user, IReadOnlyList<CtrCandidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0) return [];
        _lifetime.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            using var batch = CtrBatchBuilder.BuildCandidates(candidates, _options, _model.Device);
            return _model.ForwardCandidates(user, batch).sigmoid().cpu().data<float>().ToArray();
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
