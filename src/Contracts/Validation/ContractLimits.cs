using System.ComponentModel.DataAnnotations;

namespace ReaSeq.Contracts.Validation;

/// <summary>Bounds every ingested record must respect (configuration section "Ingest:Limits").</summary>
public sealed class ContractLimits
{
    [Range(1, 1024)] public int MaxIdLength { get; set; } = 128;
    [Range(1, 1_000_000)] public int MaxTitleLength { get; set; } = 1_000;
    [Range(1, 1_000_000)] public int MaxDescriptionLength { get; set; } = 20_000;
    [Range(0, 10_000)] public int MaxCollectionEntries { get; set; } = 64;
    [Range(1, 100_000)] public int MaxCollectionValueLength { get; set; } = 1_000;

    /// <summary>Earliest accepted event time (Unix ms). Default 1990-01-01: real data sets reach back years.</summary>
    public long MinTimestampMs { get; set; } = 631_152_000_000;

    /// <summary>How far ahead of the wall clock an event may be stamped before it is rejected as far-future.</summary>
    [Range(0, 365L * 24 * 3600 * 1000)] public long MaxFutureSkewMs { get; set; } = 24L * 3600 * 1000;
}
