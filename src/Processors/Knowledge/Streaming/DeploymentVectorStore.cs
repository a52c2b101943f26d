using ReaSeq.Contracts.Stores;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// The knowledge role's vector store, opened on first use for the deployment it serves: the embedded index lives in a
/// folder named by the deployment's identity (read from PostgreSQL once the schema exists), so a fresh database never
/// sees the vectors of an earlier deployment (issue 8 D13); a Qdrant collection is the operator's to name.
/// </summary>
public sealed class DeploymentVectorStore(int dimension, Func<CancellationToken, Task<IVectorStore>> open) : IVectorStore
{
    private readonly SemaphoreSlim _opening = new(1, 1);
    private IVectorStore? _inner;

    public int Dimension { get; } = dimension;

    public VectorDistance Distance => VectorDistance.Cosine;

    private async ValueTask<IVectorStore> InnerAsync(CancellationToken ct)
    {
        if (_inner is { } ready) return ready;
        await _opening.WaitAsync(ct);
        try
        {
            return _inner ??= await open(ct);
        }
        finally
        {
            _opening.Release();
        }
    }

    public async Task UpsertAsync(IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken = default) =>
        await (await InnerAsync(cancellationToken)).UpsertAsync(points, cancellationToken);

    public async Task<IReadOnlyList<VectorHit>> SearchAsync(ReadOnlyMemory<float> query, int limit, PayloadFilter? filter = null,
                                                            CancellationToken cancellationToken = default) =>
        await (await InnerAsync(cancellationToken)).SearchAsync(query, limit, filter, cancellationToken);

    public async Task<IReadOnlyList<IReadOnlyList<VectorHit>>> SearchBatchAsync(IReadOnlyList<VectorQuery> queries, CancellationToken cancellationToken = default) =>
        await (await InnerAsync(cancellationToken)).SearchBatchAsync(queries, cancellationToken);

    public async Task<VectorPoint?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        await (await InnerAsync(cancellationToken)).GetAsync(id, cancellationToken);

    public async Task DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default) =>
        await (await InnerAsync(cancellationToken)).DeleteAsync(ids, cancellationToken);

    public async Task<long> CountAsync(CancellationToken cancellationToken = default) =>
        await (await InnerAsync(cancellationToken)).CountAsync(cancellationToken);

    public async Task FlushAsync(CancellationToken cancellationToken = default) =>
        await (await InnerAsync(cancellationToken)).FlushAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_inner is not null) await _inner.DisposeAsync();
        _inner = null;
        _opening.Dispose();
    }
}
