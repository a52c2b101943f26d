namespace ReaSeq.Processors.Sequence;

/// <summary>Which rules fired on a transition (all of them, whatever the configured variant).</summary>
[Flags]
public enum GapReasonFlags : byte
{
    None = 0,
    /// <summary>TD: Δt &gt; T.</summary>
    Temporal = 1,
    /// <summary>CD: both categories known and different.</summary>
    Category = 2,
    /// <summary>RANK: rank &gt; κ; never without model evidence (see <see cref="Transition.RankStatus"/>).</summary>
    Rank = 4,
}
