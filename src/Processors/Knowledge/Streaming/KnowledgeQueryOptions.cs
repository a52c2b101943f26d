using System.ComponentModel.DataAnnotations;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>Configuration section "Knowledge:Queries": the search queries kept for the demand agent (§2.1.1, layer 1).</summary>
public sealed class KnowledgeQueryOptions
{
    public const string Section = "Knowledge:Queries";

    /// <summary>Distinct queries kept per primary category; the lightest (rarest and oldest) are pruned past it.</summary>
    [Range(1, 1_000_000)] public int MaxPerCategory { get; set; } = 2_000;

    /// <summary>Queries handed to the demand agent when it builds a category's taxonomy, heaviest first.</summary>
    [Range(1, 100_000)] public int MaxPerCorpus { get; set; } = 300;

    /// <summary>Age at which a query occurrence counts half: the demand agent follows what users search for now.</summary>
    [Range(0.001, 36_500)] public double HalfLifeDays { get; set; } = 30;

    public double HalfLifeMs => HalfLifeDays * 86_400_000d;
}
