using ReaSeq.Models.Ctr;

namespace ReaSeq.Processors.Trainer;

/// <summary>Examples for a batch of impressions, with the model versions their inputs came from (registry lineage).</summary>
public sealed record FeatureBatch(IReadOnlyList<CtrExample> Examples, IReadOnlySet<string> SemanticIdVersions, IReadOnlySet<string> DllmVersions);
