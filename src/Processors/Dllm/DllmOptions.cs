using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Validation;

namespace ReaSeq.Processors.Dllm;

/// <summary>Configuration section "Dllm": the filling job of the dllm role (paper §3.2.3).</summary>
public sealed class DllmOptions : IValidatableObject
{
    public const string Section = "Dllm";

    /// <summary>Where SequenceUpdates come from.</summary>
    [Required] public string InputTopic { get; set; } = Topics.SequenceGaps;

    /// <summary>Where AugmentedSequences go.</summary>
    [Required] public string OutputTopic { get; set; } = Topics.AugmentedSequences;

    /// <summary>
    /// Name under which training windows and model versions are kept in PostgreSQL; instances sharing it share one
    /// trainer and one line of versions. Empty: the Kafka group prefix.
    /// </summary>
    public string Deployment { get; set; } = "";

    /// <summary>Longest window accepted; a longer one is dead-lettered as oversized.</summary>
    [Range(1, 10_000)] public int MaxWindow { get; set; } = 100;

    /// <summary>Real items attached to each filled position, nearest first.</summary>
    [Range(0, 1_000)] public int Nearest { get; set; } = 10;

    /// <summary>
    /// Sequences per inference call. Every call is padded to this many rows of the model's full length, so a
    /// sequence's fill never depends on which others share its call (deterministic replays).
    /// </summary>
    [Range(1, 4_096)] public int MicroBatch { get; set; } = 64;

    /// <summary>cpu (default), auto (CUDA when available, else CPU), cuda or cuda:N; for inference and training.</summary>
    [Required] public string Device { get; set; } = "cpu";

    /// <summary>How often the filling job looks for a newer model version.</summary>
    [Range(100, 3_600_000)] public int ModelCheckMs { get; set; } = 5_000;

    /// <summary>
    /// libtorch CPU threads of the filling passes (0: libtorch's default, one per core), set on the thread that runs
    /// each pass. On a small or busy machine one thread is often faster for the tiny model than threads spinning for
    /// each other.
    /// </summary>
    [Range(0, 1_024)] public int CpuThreads { get; set; }

    /// <summary>
    /// Longest a batch waits for vectors of items the knowledge role has not written yet (it works on the same items
    /// in parallel); still unknown items then enter the model as [MASK] and are named in the output's unknown_positions.
    /// </summary>
    [Range(0, 600_000)] public int UnknownItemWaitMs { get; set; } = 5_000;

    /// <summary>
    /// /readyz before the deployment's first model version (issue 12 §4). False (default): not ready until a version is
    /// loaded, since "ready" promises filled AugmentedSequences. True: ready without one, for a first rollout that waits
    /// on readiness (helm --wait) while the trainer still needs traffic to train version 1; the filling job consumes
    /// nothing until then either way, so no unfilled record is ever published.
    /// </summary>
    public bool ReadyWithoutModel { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);

    public void Validate()
    {
        var device = (Device ?? "").Trim().ToLowerInvariant();
        if (device is not ("cpu" or "auto" or "cuda") && !device.StartsWith("cuda:", StringComparison.Ordinal))
            throw new ArgumentException($"{Section}:Device '{Device}' is unknown; use cpu, auto, cuda or cuda:N.");
    }

    /// <summary>The deployment name actually used.</summary>
    public string DeploymentOr(string groupPrefix) => string.IsNullOrWhiteSpace(Deployment) ? groupPrefix : Deployment;
}
