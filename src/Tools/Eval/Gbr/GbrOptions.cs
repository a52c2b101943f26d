using ReaSeq.Processors.Sequence;

namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>
/// Sizes of `reaseq-tools eval gbr`. The model keeps the paper's shape (§4.2.1: 4 layers, d = 128, 8 heads,
/// temperature 0.07, Adam at 0.0075 with warm-up and cosine annealing); what is cut down for a shared 2-core CPU is the
/// amount of training (epochs, training windows), the batch (paper: 3,200) and the window length. The defaults run the
/// whole evaluation (five Table 5 rows and the recovery model) in about 10–15 minutes on such a machine.
/// </summary>
public sealed class GbrOptions
{
    /// <summary>Events per window (the model sees at most twice as many positions: one [FILL] per transition).</summary>
    public int WindowEvents { get; set; } = 16;

    /// <summary>Batch size of training and of the in-batch metrics, the same for every row (§4.2.1).</summary>
    public int BatchSize { get; set; } = 64;

    public int Epochs { get; set; } = 1;

    /// <summary>Train on at most this many windows per row (a seeded sample; 0: all).</summary>
    public int MaxTrainWindows { get; set; } = 6_400;

    /// <summary>Evaluate on at most this many held-out windows (the first in user order; 0: all).</summary>
    public int MaxEvalWindows { get; set; } = 1_024;

    /// <summary>Share of users held out from training (and from the collaborative model) and evaluated.</summary>
    public double HoldOut { get; set; } = 0.2;

    public int WarmupSteps { get; set; } = 20;

    /// <summary>Peak Adam learning rate (paper §4.2.1: 0.0075 at batch 3,200).</summary>
    public double LearningRate { get; set; } = 0.0075;

    /// <summary>libtorch CPU threads: on a small, busy machine one thread trains many times faster than threads that wait for each other.</summary>
    public int Threads { get; set; } = 1;

    public int Seed { get; set; } = 20_251_202;

    /// <summary>θ of the self-supervised labels (nats); the detector's default.</summary>
    public double LabelThreshold { get; set; } = new SequenceDetectorOptions().LabelThreshold;

    /// <summary>
    /// Item vectors of Table 5: "knowledge" (§2.1.2, as the representation evaluation builds and caches them; the first
    /// computation takes about 20 minutes on a busy 2-core machine, later runs read the cache) or "title" (MiniLM of the title).
    /// </summary>
    public string ItemVectors { get; set; } = "knowledge";

    /// <summary>Item vectors of the recovery measurement (title by default: the synthetic titles carry their attributes and noun).</summary>
    public string RecoveryItemVectors { get; set; } = "title";

    /// <summary>Synthetic world of the recovery measurement.</summary>
    public int SyntheticUsers { get; set; } = 6_000;

    public int SyntheticItems { get; set; } = 2_000;

    public int SyntheticDays { get; set; } = 60;

    /// <summary>The gap variant whose [FILL] positions the recovery model is trained and scored with.</summary>
    public DetectionVariant RecoveryVariant { get; set; } = DetectionVariant.TemporalOrCategory;

    public int RecoveryEpochs { get; set; } = 8;

    /// <summary>The recovery model trains on at most this many of the training users' windows (a seeded sample; 0: all), apart from Table 5's cap.</summary>
    public int RecoveryMaxTrainWindows { get; set; }

    /// <summary>
    /// Batch of the recovery model's training and in-batch metrics, apart from Table 5's <see cref="BatchSize"/>: Eq. 7's
    /// negatives are the other masked targets of the batch, so a larger batch puts more items of the same sub-category
    /// among them (paper: 3,200).
    /// </summary>
    public int RecoveryBatchSize { get; set; } = 64;

    /// <summary>
    /// Peak Adam learning rate of the recovery model, apart from Table 5's <see cref="LearningRate"/> (the paper's 0.0075 is
    /// set for batch 3,200; at <see cref="RecoveryBatchSize"/> 64 a smaller peak trains a better [FILL], see the README).
    /// </summary>
    public double RecoveryLearningRate { get; set; } = 0.001;

    /// <summary>
    /// Dynamic masking of the recovery model also draws observed items (LLaDA's forward process over the whole window,
    /// see <see cref="Models.Dllm.LladaTinyOptions.MaskObservedItems"/>), and every training window counts, with or without a label.
    /// </summary>
    public bool RecoveryMaskObserved { get; set; } = true;

    /// <summary>
    /// The held-out windows whose [FILL]s are scored overlap by one event, so every flagged gap of a user gets exactly one
    /// [FILL] with an event on both sides inside its window (without it, a gap into a window's first event gets none and
    /// is not scored). Training windows are cut as Table 5's.
    /// </summary>
    public bool RecoveryEveryGap { get; set; } = true;

    /// <summary>
    /// Eq. 7's in-batch candidates are other windows' targets, so they are drawn by popularity; with this on, the recovery
    /// model's loss subtracts each candidate's log share of the training clicks (sampling-bias correction), so the [FILL]
    /// learns p(item | context) rather than p(item | context) / q(item) before it searches the whole catalogue.
    /// </summary>
    public bool RecoveryLogPrior { get; set; } = true;

    public void Validate()
    {
        static void Check(bool ok, string option, object value, string rule)
        {
            if (!ok) throw new ArgumentException($"{option} {rule}; got {value}");
        }
        Check(WindowEvents >= 3, "--window", WindowEvents, "must be at least 3");
        Check(BatchSize >= 2, "--batch", BatchSize, "must be at least 2 (in-batch negatives come from other sequences)");
        Check(Epochs >= 1, "--epochs", Epochs, "must be at least 1");
        Check(MaxTrainWindows >= 0, "--max-train-windows", MaxTrainWindows, "must not be negative");
        Check(MaxEvalWindows >= 0, "--max-eval-windows", MaxEvalWindows, "must not be negative");
        Check(HoldOut is > 0 and < 1, "--hold-out", HoldOut, "must be in (0, 1)");
        Check(LearningRate is > 0 and <= 1, "--lr", LearningRate, "must be in (0, 1]");
        Check(WarmupSteps >= 0, "--warmup", WarmupSteps, "must not be negative");
        Check(Threads >= 1, "--threads", Threads, "must be at least 1");
        Check(SyntheticUsers >= 10, "--synthetic-users", SyntheticUsers, "must be at least 10");
        Check(SyntheticItems >= 32, "--synthetic-items", SyntheticItems, "must be at least 32");
        Check(SyntheticDays >= 1, "--synthetic-days", SyntheticDays, "must be at least 1");
        Check(ItemVectors is "knowledge" or "title", "--vectors", ItemVectors, "must be knowledge or title");
        Check(RecoveryItemVectors is "knowledge" or "title", "--recovery-vectors", RecoveryItemVectors, "must be knowledge or title");
        Check(RecoveryEpochs >= 1, "--recovery-epochs", RecoveryEpochs, "must be at least 1");
        Check(RecoveryMaxTrainWindows >= 0, "--recovery-max-train-windows", RecoveryMaxTrainWindows, "must not be negative");
        Check(RecoveryLearningRate is > 0 and <= 1, "--recovery-lr", RecoveryLearningRate, "must be in (0, 1]");
        Check(RecoveryBatchSize >= 2, "--recovery-batch", RecoveryBatchSize, "must be at least 2 (in-batch negatives come from other sequences)");
    }
}
