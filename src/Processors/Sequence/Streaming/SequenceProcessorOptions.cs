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
    /// Longest a batch waits for the catalog to learn items its clicks refer to (clicks can overtake their item
    /// updates, which another role ingests). 0: never wait; unknown items then make no CD decision.
    /// </summary>
    [Range(0, 60_000)] public int CatalogWaitMs { get; set; } = 2_000;
}
