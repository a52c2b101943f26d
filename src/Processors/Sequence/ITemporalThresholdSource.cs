namespace ReaSeq.Processors.Sequence;

/// <summary>Supplies T for a transition instead of the detector's own (per-detector) sketch.</summary>
public interface ITemporalThresholdSource
{
    /// <summary>T for a transition into an event at <paramref name="timestampMs"/> in <paramref name="domain"/>; null: not known (the detector falls back to its own).</summary>
    long? ThresholdMs(string domain, long timestampMs);
}
