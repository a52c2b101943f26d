using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>Configuration section "Knowledge": the streaming knowledge processor.</summary>
public sealed class KnowledgeProcessorOptions
{
    public const string Section = "Knowledge";

    /// <summary>Where ItemKnowledge records go.</summary>
    [Required] public string OutputTopic { get; set; } = Topics.ItemKnowledge;

    /// <summary>Items of one batch analysed at the same time (agent calls are the slow part).</summary>
    [Range(1, 64)] public int MaxConcurrency { get; set; } = 2;

    /// <summary>
    /// Item updates per batch. Reasoning costs tens of milliseconds per item with the extractive backend and seconds with
    /// an LLM, so batches stay small: the offsets, the progress display and the work repeated after a crash move in steps of this size.
    /// </summary>
    [Range(1, 100_000)] public int MaxBatchItems { get; set; } = 128;

    /// <summary>Batch items held in memory for layers 1-2 until the catalog (written by the ingest role) has them; cleared when exceeded.</summary>
    [Range(1, 10_000_000)] public int MaxOverlayItems { get; set; } = 100_000;
}
