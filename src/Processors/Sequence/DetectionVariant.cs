namespace ReaSeq.Processors.Sequence;

/// <summary>Which rule set decides that a transition is a gap (paper Table 5 and §3.1).</summary>
public enum DetectionVariant : byte
{
    /// <summary>TD: Δt &gt; T.</summary>
    Temporal = 0,
    /// <summary>CD: the primary categories differ.</summary>
    Category = 1,
    /// <summary>TDCD: TD ∨ CD (Table 5's union).</summary>
    TemporalOrCategory = 2,
    /// <summary>§3.1 two-stage rule: coarse filter TD ∧ CD, then RANK &gt; κ.</summary>
    TemporalAndCategoryThenRank = 3,
}
