using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Validation;
using ReaSeq.Models.Ctr;

namespace ReaSeq.Processors.Trainer;

/// <summary>Configuration section "Trainer": the online CTR trainer role; "Trainer:Model" shapes the model.</summary>
public sealed class TrainerOptions : IValidatableObject
{
    public const string Section = "Trainer";

    [Required] public string InputTopic { get; set; } = Topics.Impressions;

    [Required] public string AugmentedTopic { get; set; } = Topics.AugmentedSequences;

    /// <summary>Where each new version is announced as a ModelVersion.</summary>
    [Required] public string OutputTopic { get; set; } = Topics.CtrModels;

    /// <summary>Use GBR-augmented sequences and their fills (§4.2.4) when the dllm role has produced them.</summary>
    public bool UseAugmentedSequences { get; set; } = true;

    /// <summary>Impressions per mini-batch (a smaller one is trained when the stream goes idle).</summary>
    [Range(1, 65_536)] public int BatchSize { get; set; } = 256;

    /// <summary>
    /// Share of impressions trained on, chosen by a hash of the impression id (1: all). A replay on a small machine
    /// (`make run`) sets less, so that training keeps pace with the replay; the others are consumed and skipped.
    /// </summary>
    [Range(0.0001, 1.0)] public double TrainFraction { get; set; } = 1.0;

    /// <summary>Cadence of new registry versions; with idle training this bounds model freshness (goal ≤ 60 s).</summary>
    [Range(500, 86_400_000)] public int VersionIntervalMs { get; set; } = 20_000;

    /// <summary>Impressions in the rolling prequential AUC / GAUC window.</summary>
    [Range(10, 10_000_000)] public int EvaluationWindow { get; set; } = 20_000;

    /// <summary>libtorch CPU threads for training; 0 leaves libtorch's default.</summary>
    [Range(0, 256)] public int CpuThreads { get; set; } = 1;

    /// <summary>The PostgreSQL advisory lock that elects the one trainer of a deployment.</summary>
    public long LeaderLockKey { get; set; } = 0x5265615365710010;

    /// <summary>How often a standby trainer tries to become the leader.</summary>
    [Range(100, 600_000)] public int LeaderRetryMs { get; set; } = 2_000;

    /// <summary>Registry rows kept with their checkpoint; older superseded ones lose the checkpoint bytes (0 keeps all).</summary>
    [Range(0, 1_000_000)] public int KeepCheckpoints { get; set; } = 50;

    /// <summary>
    /// How far back in event time, behind the newest impression trained on, ctr_augmented_sequences keeps superseded
    /// rows (0 keeps all). The table otherwise grows with every AugmentedSequence ever filled; each user's newest row
    /// before the cutoff stays, so only impressions arriving later than this behind the newest lose their fills.
    /// </summary>
    [Range(0, long.MaxValue)] public long AugmentedRetentionMs { get; set; } = 7L * 24 * 3_600_000;

    public int Seed { get; set; } = 1;

    public CtrModelOptions Model { get; set; } = new() { MaxHistory = 100 };

    public void Validate()
    {
        try
        {
            Model.Validate();
        }
        catch (ValidationException e)
        {
            throw new ArgumentException($"Trainer:Model: {e.Message}", e);
        }
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);
}
