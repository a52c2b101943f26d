namespace ReaSeq.Processors.Sequence;

/// <summary>The variants under which a transition is a gap.</summary>
[Flags]
public enum DetectionVariantFlags : byte
{
    None = 0,
    Temporal = 1 << DetectionVariant.Temporal,
    Category = 1 << DetectionVariant.Category,
    TemporalOrCategory = 1 << DetectionVariant.TemporalOrCategory,
    TemporalAndCategoryThenRank = 1 << DetectionVariant.TemporalAndCategoryThenRank,
}
