using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts.Validation;

namespace ReaSeq.Processors.Dllm;

/// <summary>
/// Configuration section "Dllm:VectorStore": where the role reads item vectors and searches nearest items.
/// "embedded" (default): the process's own vector store when the knowledge role runs in the same process (its
/// embedded index), otherwise an in-memory index loaded from the knowledge role's item_knowledge rows in PostgreSQL
/// and kept up to date from them. "qdrant": the Qdrant collection the knowledge role writes.
/// </summary>
public sealed class DllmVectorStoreOptions : IValidatableObject
{
    public const string Section = "Dllm:VectorStore";
    public const string Embedded = "embedded";
    public const string Qdrant = "qdrant";

    public string Backend { get; set; } = Embedded;

    /// <summary>Width of the item vectors (all-MiniLM-L6-v2: 384) when the role builds its own store.</summary>
    [Range(1, 65_536)] public int Dimension { get; set; } = 384;

    /// <summary>How often an own embedded index takes in rows of item_knowledge written since its last look.</summary>
    [Range(100, 3_600_000)] public int SyncIntervalMs { get; set; } = 5_000;

    /// <summary>Qdrant gRPC endpoint, e.g. http://localhost:6334.</summary>
    public string? Url { get; set; }

    public string? ApiKey { get; set; }

    public string CollectionName { get; set; } = "reaseq-items";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);

    public void Validate()
    {
        var backend = (Backend ?? "").Trim().ToLowerInvariant();
        if (backend is not (Embedded or Qdrant)) throw new ArgumentException($"Unknown {Section}:Backend '{Backend}'; use embedded or qdrant.");
        if (backend == Qdrant && string.IsNullOrWhiteSpace(Url)) throw new ArgumentException($"{Section}:Backend=qdrant needs {Section}:Url.");
    }
}
