using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts.Validation;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>Configuration section "Knowledge:VectorStore": where item vectors are searchable.</summary>
public sealed class KnowledgeVectorStoreOptions : IValidatableObject
{
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);

    public const string Section = "Knowledge:VectorStore";
    public const string Embedded = "embedded";
    public const string Qdrant = "qdrant";

    /// <summary>"embedded" (default, a file under <see cref="Path"/>) or "qdrant" (needs <see cref="Url"/>).</summary>
    public string Backend { get; set; } = Embedded;

    /// <summary>Index file of the embedded backend; the role keeps it in a sub-folder named by the deployment (see <see cref="ForDeployment"/>).</summary>
    public string Path { get; set; } = System.IO.Path.Combine(".state", "vectors", "items.idx");

    /// <summary>How often the embedded index writes its file when it changed. Vectors lost in a crash are restored from PostgreSQL on start.</summary>
    [Range(1, 3_600)] public int FlushIntervalSeconds { get; set; } = 30;

    /// <summary>Qdrant gRPC endpoint, e.g. http://localhost:6334.</summary>
    public string? Url { get; set; }

    public string? ApiKey { get; set; }

    public string CollectionName { get; set; } = "reaseq-items";

    /// <summary>
    /// These options with the embedded index moved into a folder named by the deployment's identity:
    /// .state/vectors/items.idx → .state/vectors/&lt;deployment id&gt;/items.idx. A fresh database is a new deployment, so it
    /// never loads vectors an earlier deployment wrote (issue 8 D13).
    /// </summary>
    public KnowledgeVectorStoreOptions ForDeployment(string deploymentId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deploymentId);
        var copy = (KnowledgeVectorStoreOptions)MemberwiseClone();
        var full = System.IO.Path.GetFullPath(Path);
        copy.Path = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full) ?? ".", deploymentId, System.IO.Path.GetFileName(full));
        return copy;
    }

    public void Validate()
    {
        var backend = (Backend ?? "").Trim().ToLowerInvariant();
        if (backend == Qdrant && string.IsNullOrWhiteSpace(Url))
            throw new ArgumentException($"{Section}:Backend=qdrant needs {Section}:Url (e.g. http://localhost:6334).");
        if (backend == Embedded && string.IsNullOrWhiteSpace(Path))
            throw new ArgumentException($"{Section}:Path must name the embedded index file.");
        if (backend is not (Embedded or Qdrant))
            throw new ArgumentException($"Unknown {Section}:Backend '{Backend}'; use embedded or qdrant.");
    }
}
