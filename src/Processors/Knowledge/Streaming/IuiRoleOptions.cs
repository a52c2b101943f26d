using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts.Validation;
using ReaSeq.Models.Representation;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// Configuration section "Knowledge:Iui": the IUI adapter of paper §4.1.1 in the knowledge role. When enabled, the
/// adapted vectors are what the vector store, the semantic ids and ItemKnowledge (so every downstream role) carry; the
/// encoder's base vector is kept beside them (item_knowledge.base_vector). The deployment's one trainer (the leader)
/// retrains the adapter on a schedule from users' co-occurring clicks (the ingest role's user_clicks).
/// </summary>
public sealed class IuiRoleOptions : IValidatableObject
{
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);

    public const string Section = "Knowledge:Iui";

    /// <summary>Off (default): vectors are the encoder's; adapted vectors of an earlier run are reverted to the base ones.</summary>
    public bool Enabled { get; set; }

    /// <summary>How often the leader retrains the adapter (once enough new clicks arrived).</summary>
    [Range(1_000, int.MaxValue)] public int RetrainIntervalMs { get; set; } = 600_000;

    /// <summary>Clicks in PostgreSQL needed for the first training, and new clicks needed for a retraining.</summary>
    [Range(2, int.MaxValue)] public int MinNewClicks { get; set; } = 5_000;

    /// <summary>The training period: clicks at most this long before the newest one (0: every retained click).</summary>
    [Range(0, long.MaxValue)] public long TrainingPeriodMs { get; set; }

    public int HiddenDim { get; set; }
    public int Window { get; set; } = 3;
    public double Temperature { get; set; } = 0.1;
    public int Epochs { get; set; } = 3;
    public int BatchSize { get; set; } = 512;
    public int PairsPerEpoch { get; set; } = 100_000;
    public double LearningRate { get; set; } = 3e-3;
    public int Seed { get; set; } = 13;
    public string Device { get; set; } = "cpu";

    public IuiAdapterOptions ToAdapterOptions() => new()
    {
        HiddenDim = HiddenDim,
        Window = Window,
        Temperature = Temperature,
        Epochs = Epochs,
        BatchSize = BatchSize,
        PairsPerEpoch = PairsPerEpoch,
        LearningRate = LearningRate,
        Seed = Seed,
        Device = Device,
    };

    public void Validate()
    {
        try
        {
            ToAdapterOptions().Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ArgumentException($"{Section}:{e.ParamName} {e.Message.Split(" (Parameter", 2)[0]}");
        }
    }
}
