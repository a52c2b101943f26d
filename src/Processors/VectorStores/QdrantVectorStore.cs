using Grpc.Core;
using Microsoft.Extensions.Logging;
using Qdrant.Client;
using Qdrant.Client.Grpc;
using ReaSeq.Contracts.Stores;
using QdrantDistance = Qdrant.Client.Grpc.Distance;

namespace ReaSeq.Processors.VectorStores;

/// <summary>
/// <see cref="IVectorStore"/> on a Qdrant collection over gRPC. The collection is created on first use with the
/// configured size and cosine distance; an existing collection of another shape is refused rather than silently used.
/// Writes wait for Qdrant to apply them, so a search right after an upsert sees it.
/// </summary>
public sealed class QdrantVectorStore : IVectorStore
{
    private readonly QdrantClient _client;
    private readonly string _collection;
    private readonly SemaphoreSlim _collectionGate = new(1, 1);
    private volatile bool _collectionReady;

    public QdrantVectorStore(QdrantVectorStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var address = options.Validate();
        Dimension = options.Dimension;
        _collection = options.CollectionName;
        _client = new QdrantClient(address, options.ApiKey, options.Timeout, loggerFactory);
    }

    /// <summary>Creates the store and makes sure its collection exists with the right shape.</summary>
    public static async Task<QdrantVectorStore> CreateAsync(
        QdrantVectorStoreOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var store = new QdrantVectorStore(options, loggerFactory);
        try
        {
            await store.EnsureCollectionAsync(cancellationToken).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public int Dimension { get; }

    public VectorDistance Distance => VectorDistance.Cosine;

    public string CollectionName => _collection;

    /// <summary>Creates the collection when missing and checks that an existing one has this size and cosine distance.</summary>
    public async Task EnsureCollectionAsync(CancellationToken cancellationToken = default)
    {
        if (_collectionReady)
        {
            return;
        }

        await _collectionGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_collectionReady)
            {
                return;
            }

            if (!await _client.CollectionExistsAsync(_collection, cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await _client.CreateCollectionAsync(
                        _collection,
                        new VectorParams { Size = (ulong)Dimension, Distance = QdrantDistance.Cosine },
                        cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (RpcException error) when (error.StatusCode == StatusCode.AlreadyExists)
                {
                    // Another instance created it between the check and the create; it is validated below.
                }
            }

            var info = await _client.GetCollectionInfoAsync(_collection, cancellationToken).ConfigureAwait(false);
            var vectors = info.Config.Params.VectorsConfig;
            if (vectors.ConfigCase != VectorsConfig.ConfigOneofCase.Params)
            {
                throw new InvalidOperationException(
                    $"Qdrant collection '{_collection}' uses named vectors; this store needs a single unnamed vector.");
            }

            if (vectors.Params.Size != (ulong)Dimension || vectors.Params.Distance != QdrantDistance.Cosine)
            {
                throw new InvalidOperationException(
                    $"Qdrant collection '{_collection}' holds {vectors.Params.Size}-dimensional {vectors.Params.Distance} vectors; " +
                    $"this store is configured for {Dimension}-dimensional Cosine vectors.");
            }

            _collectionReady = true;
        }
        finally
        {
            _collectionGate.Release();
        }
    }

    public async Task UpsertAsync(IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(points);
        foreach (var point in points)
        {
            VectorStoreGuards.ValidatePoint(point, Dimension);
        }

        if (points.Count == 0)
        {
            return;
        }

        await EnsureCollectionAsync(cancellationToken).ConfigureAwait(false);
        var pointStructs = points.Select(QdrantPointMapping.ToPointStruct).ToList();
        await _client.UpsertAsync(_collection, pointStructs, wait: true, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<VectorHit>> SearchAsync(
        ReadOnlyMemory<float> query, int limit, PayloadFilter? filter = null, CancellationToken cancellationToken = default)
    {
        VectorStoreGuards.ValidateQuery(query.Span, limit, filter, Dimension);
        await EnsureCollectionAsync(cancellationToken).ConfigureAwait(false);
        var points = await _client.QueryAsync(
            _collection,
            query: query.ToArray(),
            filter: QdrantPointMapping.ToFilter(filter),
            limit: (ulong)limit,
            payloadSelector: true,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return ToHits(points);
    }

    public async Task<IReadOnlyList<IReadOnlyList<VectorHit>>> SearchBatchAsync(
        IReadOnlyList<VectorQuery> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var searches = new List<QueryPoints>(queries.Count);
        foreach (var query in queries)
        {
            ArgumentNullException.ThrowIfNull(query, nameof(queries));
            VectorStoreGuards.ValidateQuery(query.Vector.Span, query.Limit, query.Filter, Dimension);
            var search = new QueryPoints
            {
                CollectionName = _collection,
                Query = query.Vector.ToArray(),
                Limit = (ulong)query.Limit,
                WithPayload = true,
            };
            if (QdrantPointMapping.ToFilter(query.Filter) is { } qdrantFilter)
            {
                search.Filter = qdrantFilter;
            }

            searches.Add(search);
        }

        if (searches.Count == 0)
        {
            return [];
        }

        await EnsureCollectionAsync(cancellationToken).ConfigureAwait(false);
        var batches = await _client.QueryBatchAsync(_collection, searches, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return batches.Select(batch => ToHits(batch.Result)).ToList();
    }

    public async Task<VectorPoint?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        await EnsureCollectionAsync(cancellationToken).ConfigureAwait(false);
        var points = await _client.RetrieveAsync(
            _collection, QdrantPointMapping.PointIdFor(id), withPayload: true, withVectors: true,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (points.Count == 0)
        {
            return null;
        }

        var (storedId, payload) = QdrantPointMapping.FromPayload(points[0].Payload);
        var dense = points[0].Vectors?.Vector?.GetDenseVector()
            ?? throw new InvalidOperationException($"Qdrant returned point '{id}' without its dense vector.");
        return new VectorPoint(storedId, dense.Data.ToArray(), payload);
    }

    public async Task DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var pointIds = ids.Where(id => id is not null).Select(QdrantPointMapping.PointIdFor).ToList();
        if (pointIds.Count == 0)
        {
            return;
        }

        await EnsureCollectionAsync(cancellationToken).ConfigureAwait(false);
        await _client.DeleteAsync(_collection, pointIds, wait: true, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCollectionAsync(cancellationToken).ConfigureAwait(false);
        ulong count = await _client.CountAsync(_collection, exact: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (long)count;
    }

    /// <summary>Nothing to do: every write already waited for Qdrant to apply it.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>Drops the whole collection (used to clean up test collections).</summary>
    public async Task DeleteCollectionAsync(CancellationToken cancellationToken = default)
    {
        await _client.DeleteCollectionAsync(_collection, cancellationToken: cancellationToken).ConfigureAwait(false);
        _collectionReady = false;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        _collectionGate.Dispose();
        return ValueTask.CompletedTask;
    }

    private static List<VectorHit> ToHits(IEnumerable<ScoredPoint> points) =>
        points.Select(point =>
        {
            var (id, payload) = QdrantPointMapping.FromPayload(point.Payload);
            return new VectorHit(id, point.Score, payload);
        }).ToList();
}
