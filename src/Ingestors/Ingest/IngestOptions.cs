using System.ComponentModel.DataAnnotations;

namespace ReaSeq.Ingestors.Ingest;

/// <summary>Configuration section "Ingest".</summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>Clicks kept per user (older ones are trimmed). Repeated event ids are detected within this window.</summary>
    [Range(1, 1_000_000)] public int MaxSequenceLength { get; set; } = 1_000;
}
