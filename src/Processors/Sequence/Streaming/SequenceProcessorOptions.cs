using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts;

namespace ReaSeq.Processors.Sequence.Streaming;

/// <summary>Configuration section "Sequence:Processor".</summary>
public sealed class SequenceProcessorOptions
{
    public const string Section = "Sequence:Processor";

    /// <summary>Where SequenceUpdates go.</summary>
    [Required] public string OutputTopic { get; set; } = Topics.SequenceGaps;

    /// <summary>
    /// How often each owned partition's state (model, thresholds, users) is checkpointed with its offsets. After a
    /// crash the records since the last checkpoint are replayed deterministically, re-publishing identical updates.
    /// 0 checkpoints after every batch.
    /// </summary>
    [Range(0, 3_600_000)] public int CheckpointIntervalMs { get; set; } = 5_000;

    /// <summary>
    /// Users idle (no click) for this long are evicted from memory once their state is checkpointed, and reloaded from
    /// PostgreSQL on their next click: memory holds the active users only. 0 keeps every user in memory.
    /// </summary>
    [Range(0, long.MaxValue)] public long UserIdleTtlMs { get; set; } = 600_000;

    /// <summary>
    /// Longest a batch whose clicks need the catalog waits to read the item-update log to its end (at least 1 s). Past it
    /// the batch fails and is retried: deciding without the catalog would make categories depend on timing.
    /// </summary>
    [Range(0, 600_000)] public int CatalogWaitMs { get; set; } = 30_000;

    /// <summary>
    /// Whose gaps share a T: "" (one domain for the whole platform), "category" (the click's primary category; unknown
    /// categories form the domain "") or "context:KEY" (the click's context[KEY], "" when absent).
    /// </summary>
    [RegularExpression("^(|category|context:.+)$")] public string ThresholdDomain { get; set; } = "";

    /// <summary>
    /// True: one T per domain for the whole deployment, merged over every partition's gap sketch in PostgreSQL and
    /// frozen per event-time epoch of <see cref="ThresholdEpochMs"/>. False: each partition's own T (not recommended).
    /// </summary>
    public bool SharedThresholds { get; set; } = true;

    /// <summary>Length of a T refresh epoch in event time (T is recorded once per domain and epoch).</summary>
    [Range(60_000, long.MaxValue)] public long ThresholdEpochMs { get; set; } = 24L * 3600 * 1000;

    /// <summary>
    /// Partition: each partition learns its own model online from its users (a 1/N sample). Global: every partition
    /// loads the latest version of one model trained on the whole click stream (user_clicks), refreshed every
    /// <see cref="GlobalModelRefreshMs"/>; Sequence:LearnOnline additionally updates each partition's copy.
    /// </summary>
    public SequenceModelSource ModelSource { get; set; } = SequenceModelSource.Partition;

    [Range(1_000, int.MaxValue)] public int GlobalModelRefreshMs { get; set; } = 3_600_000;

    /// <summary>How often a processor looks for a newer global model version.</summary>
    [Range(100, int.MaxValue)] public int GlobalModelCheckMs { get; set; } = 10_000;

    /// <summary>The threshold domain of a click under <see cref="ThresholdDomain"/>.</summary>
    public string DomainOf(string? category, IReadOnlyDictionary<string, string> context) => ThresholdDomain switch
    {
        "" => "",
        "category" => category ?? "",
        _ when ThresholdDomain.StartsWith("context:", StringComparison.Ordinal) => context.GetValueOrDefault(ThresholdDomain["context:".Length..]) ?? "",
        _ => "",
    };
}
