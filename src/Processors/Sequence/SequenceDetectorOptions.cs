using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts.Validation;
namespace ReaSeq.Processors.Sequence;

/// <summary>Options of <see cref="SequenceDetector"/>; defaults suit a retail click stream.</summary>
public sealed class SequenceDetectorOptions : IValidatableObject
{
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);

    public const string Section = "Sequence";

    /// <summary>The variant whose gaps are the detector's output (statistics cover every variant).</summary>
    public DetectionVariant Variant { get; set; } = DetectionVariant.TemporalAndCategoryThenRank;

    /// <summary>Events kept per user; older ones are evicted (their decisions are final by then).</summary>
    public int WindowSize { get; set; } = 50;

    /// <summary>c: the items preceding a transition that form the model's context.</summary>
    public int ContextLength { get; set; } = 3;

    /// <summary>A fixed T in ms; null derives T from the data (percentile of each domain's gaps).</summary>
    public long? FixedTemporalThresholdMs { get; set; }

    /// <summary>
    /// Basket tolerance: consecutive events of one user at most this far apart belong to one basket (e.g. the lines of
    /// one order). Only the gap between two baskets (Δt &gt; tolerance) feeds the T sketch and can be a TD gap; 0 makes
    /// only equal timestamps one basket.
    /// </summary>
    public long BasketToleranceMs { get; set; } = 60_000;

    /// <summary>The percentile of gaps between baskets used as T when it is data-driven.</summary>
    public double TemporalPercentile { get; set; } = 0.95;

    /// <summary>T until a domain has seen <see cref="TemporalWarmupGaps"/> gaps.</summary>
    public long InitialTemporalThresholdMs { get; set; } = 30 * 60 * 1000;

    public int TemporalWarmupGaps { get; set; } = 1000;

    /// <summary>Recompute a data-driven T after this many further gaps.</summary>
    public int TemporalRefreshEvery { get; set; } = 1000;

    public double SketchRelativeAccuracy { get; set; } = 0.02;

    /// <summary>Halve the gap sketch's counts beyond this weight, so T follows drift.</summary>
    public long SketchMaxWeight { get; set; } = 1_000_000;

    /// <summary>κ: RANK fires when the observed item's rank is &gt; κ; without model evidence (unknown item, no context neighbours) RANK makes no decision.</summary>
    public int RankThreshold { get; set; } = 20;

    /// <summary>θ (nats): position i is labeled when log p(x_{i+1} | x_{i−c+1..i}) − log p(x_{i+1} | the same context without x_i) &gt; θ.</summary>
    public double LabelThreshold { get; set; } = 1.0;

    /// <summary>Events older than the user's newest event by more than this are rejected (dead-lettered).</summary>
    public long OutOfOrderToleranceMs { get; set; } = 5 * 60 * 1000;

    /// <summary>Duplicate event ids are recognised among this many last accepted events of the user.</summary>
    public int DeduplicationCapacity { get; set; } = 100;

    /// <summary>Update the model (after deciding) with every accepted event; false freezes it.</summary>
    public bool LearnOnline { get; set; } = true;

    public void Validate()
    {
        if (!Enum.IsDefined(Variant)) throw new ArgumentOutOfRangeException(nameof(Variant), Variant, "Unknown detection variant.");
        if (ContextLength < 1) throw new ArgumentOutOfRangeException(nameof(ContextLength), ContextLength, "ContextLength must be at least 1.");
        // Re-evaluating a label needs c items before the labeled one plus the next one.
        if (WindowSize < ContextLength + 2) throw new ArgumentOutOfRangeException(nameof(WindowSize), WindowSize, $"WindowSize must be at least ContextLength + 2 ({ContextLength + 2}).");
        if (FixedTemporalThresholdMs is < 0) throw new ArgumentOutOfRangeException(nameof(FixedTemporalThresholdMs), FixedTemporalThresholdMs, "FixedTemporalThresholdMs must not be negative.");
        if (BasketToleranceMs < 0) throw new ArgumentOutOfRangeException(nameof(BasketToleranceMs), BasketToleranceMs, "BasketToleranceMs must not be negative.");
        if (!(TemporalPercentile > 0 && TemporalPercentile < 1)) throw new ArgumentOutOfRangeException(nameof(TemporalPercentile), TemporalPercentile, "TemporalPercentile must be in (0, 1).");
        if (InitialTemporalThresholdMs < 0) throw new ArgumentOutOfRangeException(nameof(InitialTemporalThresholdMs), InitialTemporalThresholdMs, "InitialTemporalThresholdMs must not be negative.");
        if (TemporalWarmupGaps < 1) throw new ArgumentOutOfRangeException(nameof(TemporalWarmupGaps), TemporalWarmupGaps, "TemporalWarmupGaps must be at least 1.");
        if (TemporalRefreshEvery < 1) throw new ArgumentOutOfRangeException(nameof(TemporalRefreshEvery), TemporalRefreshEvery, "TemporalRefreshEvery must be at least 1.");
        if (!(SketchRelativeAccuracy > 0 && SketchRelativeAccuracy < 0.5)) throw new ArgumentOutOfRangeException(nameof(SketchRelativeAccuracy), SketchRelativeAccuracy, "SketchRelativeAccuracy must be in (0, 0.5).");
        if (SketchMaxWeight < 2) throw new ArgumentOutOfRangeException(nameof(SketchMaxWeight), SketchMaxWeight, "SketchMaxWeight must be at least 2.");
        if (RankThreshold < 1) throw new ArgumentOutOfRangeException(nameof(RankThreshold), RankThreshold, "RankThreshold (κ) must be at least 1.");
        if (double.IsNaN(LabelThreshold)) throw new ArgumentOutOfRangeException(nameof(LabelThreshold), LabelThreshold, "LabelThreshold (θ) must be a number.");
        if (OutOfOrderToleranceMs < 0) throw new ArgumentOutOfRangeException(nameof(OutOfOrderToleranceMs), OutOfOrderToleranceMs, "OutOfOrderToleranceMs must not be negative.");
        if (DeduplicationCapacity < 1) throw new ArgumentOutOfRangeException(nameof(DeduplicationCapacity), DeduplicationCapacity, "DeduplicationCapacity must be at least 1.");
    }
}
