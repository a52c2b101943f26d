namespace ReaSeq.Processors.VectorStores;

/// <summary>Settings of the embedded vector index (section "VectorStore:Embedded").</summary>
public sealed class EmbeddedVectorIndexOptions
{

    /// <summary>Length of every vector (384 for all-MiniLM-L6-v2).</summary>
    public int Dimension { get; set; } = 384;

    /// <summary>Index file; loaded on start when present. Null keeps the index in memory only.</summary>
    public string? Path { get; set; }

    /// <summary>When set, a background timer writes the file this often if anything changed since the last write.
    /// The file is always written by FlushAsync and on dispose.</summary>
    public TimeSpan? FlushInterval { get; set; }

    /// <summary>Rows allocated up front; the vector array doubles when full.</summary>
    public int InitialCapacity { get; set; } = 1024;

    /// <summary>Find candidates on a 7-bit copy of the vectors (4× less memory to read) and score only those exactly;
    /// results are identical to a full float scan. Needs AVX2; ignored (full float scan) without it.</summary>
    public bool QuantizedCandidateSearch { get; set; } = true;

    /// <summary>Threads a large search may use; defaults to the processor count.</summary>
    public int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

    internal void Validate()
    {
        VectorStoreGuards.ValidateDimension(Dimension);
        if (InitialCapacity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(InitialCapacity), InitialCapacity, "Initial capacity must be positive.");
        }

        if (MaxDegreeOfParallelism <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "Parallelism must be positive.");
        }

        if (FlushInterval is { } interval && interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(FlushInterval), interval, "Flush interval must be positive.");
        }

        if (FlushInterval is not null && Path is null)
        {
            throw new ArgumentException("A flush interval needs a Path to write to.", nameof(FlushInterval));
        }
    }
}
