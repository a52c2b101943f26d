namespace ReaSeq.Processors.VectorStores;

/// <summary>Settings of the Qdrant backend (section "VectorStore:Qdrant"); gRPC, so the port is 6334, not 6333.</summary>
public sealed class QdrantVectorStoreOptions
{

    /// <summary>gRPC endpoint, e.g. http://localhost:6334.</summary>
    public string Url { get; set; } = "http://localhost:6334";

    /// <summary>Sent as the api-key header when set.</summary>
    public string? ApiKey { get; set; }

    public string CollectionName { get; set; } = "reaseq-items";

    /// <summary>Vector size of the collection; an existing collection of another size is refused.</summary>
    public int Dimension { get; set; } = 384;

    /// <summary>Deadline of each gRPC call.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    internal Uri Validate()
    {
        VectorStoreGuards.ValidateDimension(Dimension);
        if (string.IsNullOrWhiteSpace(CollectionName))
        {
            throw new ArgumentException("Qdrant collection name must be set.", nameof(CollectionName));
        }

        if (!Uri.TryCreate(Url, UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"Qdrant URL '{Url}' is not an absolute http(s) URL such as http://localhost:6334.", nameof(Url));
        }

        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "Timeout must be positive.");
        }

        return address;
    }
}
