namespace ReaSeq.Contracts.Stores;

/// <summary>
/// Item vector store: points (id, vector, string payload) searched by cosine similarity.
/// The dimension and the distance are fixed when the store is created; every backend
/// (embedded index, Qdrant) passes the same contract tests.
/// </summary>
public interface IVectorStore : IAsyncDisposable
{
    /// <summary>Length every stored and queried vector must have.</summary>
    int Dimension { get; }

    /// <summary>Similarity used for ranking; scores are cosine similarities in [-1, 1], higher is closer.</summary>
    VectorDistance Distance { get; }

    /// <summary>Inserts the points, replacing vector and payload of ids already present.</summary>
    /// <exception cref="ArgumentException">A vector has the wrong length, is zero or not finite, an id is empty,
    /// or a payload uses <see cref="VectorPoint.ReservedPayloadKey"/>.</exception>
    Task UpsertAsync(IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken = default);

    /// <summary>The <paramref name="limit"/> points closest to <paramref name="query"/> that match the filter, best first.
    /// Fewer are returned when fewer match; an empty store returns an empty list.</summary>
    Task<IReadOnlyList<VectorHit>> SearchAsync(
        ReadOnlyMemory<float> query, int limit, PayloadFilter? filter = null, CancellationToken cancellationToken = default);

    /// <summary>Runs many searches at once; result[i] answers queries[i] exactly as <see cref="SearchAsync"/> would.</summary>
    Task<IReadOnlyList<IReadOnlyList<VectorHit>>> SearchBatchAsync(
        IReadOnlyList<VectorQuery> queries, CancellationToken cancellationToken = default);

    /// <summary>The stored point, or null. Its vector is the stored, unit-length (normalised) vector.</summary>
    Task<VectorPoint?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Removes the points; ids that are not present are ignored.</summary>
    Task DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default);

    /// <summary>Number of stored points.</summary>
    Task<long> CountAsync(CancellationToken cancellationToken = default);

    /// <summary>Makes every completed write durable (the embedded index writes its file; a server backend has nothing to do).</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);
}

/// <summary>One stored item vector with its string payload (e.g. category, model name).</summary>
public sealed record VectorPoint(string Id, float[] Vector, IReadOnlyDictionary<string, string> Payload)
{
    /// <summary>Payload key a backend may use for its own bookkeeping (the Qdrant adapter keeps the original id there).</summary>
    public const string ReservedPayloadKey = "__point_id";

    public VectorPoint(string id, float[] vector)
        : this(id, vector, new Dictionary<string, string>())
    {
    }
}

/// <summary>One search result: the point id, its cosine similarity to the query, and its payload.</summary>
public sealed record VectorHit(string Id, float Score, IReadOnlyDictionary<string, string> Payload);

/// <summary>Payload filter: a point matches when its payload has every listed key with exactly the listed value.</summary>
public sealed record PayloadFilter(IReadOnlyDictionary<string, string> MustEqual)
{
    public static PayloadFilter Equal(string key, string value) => new(new Dictionary<string, string> { [key] = value });

    public PayloadFilter And(string key, string value) =>
        new(new Dictionary<string, string>(MustEqual) { [key] = value });
}

/// <summary>One query of a batched search.</summary>
public sealed record VectorQuery(ReadOnlyMemory<float> Vector, int Limit, PayloadFilter? Filter = null);
