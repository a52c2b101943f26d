using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts;
using ReaSeq.Models.SemanticIds;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>Configuration section "Knowledge": the streaming knowledge processor.</summary>
public sealed class KnowledgeProcessorOptions
{
    public const string Section = "Knowledge";

    /// <summary>Where ItemKnowledge records go.</summary>
    [Required] public string OutputTopic { get; set; } = Topics.ItemKnowledge;

    /// <summary>Items of one batch analysed at the same time (agent calls are the slow part).</summary>
    [Range(1, 64)] public int MaxConcurrency { get; set; } = 2;

    /// <summary>Batch items held in memory for layers 1-2 until the catalog (written by the ingest role) has them; cleared when exceeded.</summary>
    [Range(1, 10_000_000)] public int MaxOverlayItems { get; set; } = 100_000;
}

/// <summary>Configuration section "Knowledge:VectorStore": where item vectors are searchable.</summary>
public sealed class KnowledgeVectorStoreOptions
{
    public const string Section = "Knowledge:VectorStore";
    public const string Embedded = "embedded";
    public const string Qdrant = "qdrant";

    /// <summary>"embedded" (default, a file under <see cref="Path"/>) or "qdrant" (needs <see cref="Url"/>).</summary>
    public string Backend { get; set; } = Embedded;

    /// <summary>Index file of the embedded backend.</summary>
    public string Path { get; set; } = System.IO.Path.Combine(".state", "vectors", "items.idx");

    /// <summary>How often the embedded index writes its file when it changed. Vectors lost in a crash are restored from PostgreSQL on start.</summary>
    [Range(1, 3_600)] public int FlushIntervalSeconds { get; set; } = 30;

    /// <summary>Qdrant gRPC endpoint, e.g. http://localhost:6334.</summary>
    public string? Url { get; set; }

    public string? ApiKey { get; set; }

    public string CollectionName { get; set; } = "reaseq-items";

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

/// <summary>Configuration section "Knowledge:SemanticIds": when and how the RQ-VAE tokenizer is (re)trained.</summary>
public sealed class SemanticIdTrainingOptions
{
    public const string Section = "Knowledge:SemanticIds";

    /// <summary>Off: no training and no ids (an id model trained elsewhere can still be loaded from <see cref="ModelDirectory"/>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Knowledge vectors needed before the first model is trained.</summary>
    [Range(2, int.MaxValue)] public int MinItemsForTraining { get; set; } = 256;

    /// <summary>New knowledge rows since the last training that trigger a retraining.</summary>
    [Range(1, int.MaxValue)] public int RetrainEveryItems { get; set; } = 2_000;

    /// <summary>How often the trainer looks at the item count (and re-publishes items left with an outdated id).</summary>
    [Range(50, 3_600_000)] public int CheckIntervalMs { get; set; } = 5_000;

    /// <summary>Items re-published per transaction after a model change.</summary>
    [Range(1, 100_000)] public int RepublishChunk { get; set; } = 500;

    /// <summary>Models are saved here as &lt;version&gt;.pt (versions read "rqvae-LxK-hash"), with current.json naming the live one.</summary>
    public string ModelDirectory { get; set; } = System.IO.Path.Combine(".state", "models");

    public int Levels { get; set; } = 3;
    public int CodebookSize { get; set; } = 256;
    public int LatentDim { get; set; } = 32;
    public int Epochs { get; set; } = 20;
    public int BatchSize { get; set; } = 256;
    public double LearningRate { get; set; } = 3e-3;
    public int Seed { get; set; } = 42;
    public string Device { get; set; } = "auto";

    public RqVaeOptions ToRqVaeOptions() => new()
    {
        Levels = Levels, CodebookSize = CodebookSize, LatentDim = LatentDim, Epochs = Epochs, BatchSize = BatchSize,
        LearningRate = LearningRate, Seed = Seed, Device = Device,
    };

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelDirectory)) throw new ArgumentException($"{Section}:ModelDirectory must be set.");
        ToRqVaeOptions().Validate();
    }
}
