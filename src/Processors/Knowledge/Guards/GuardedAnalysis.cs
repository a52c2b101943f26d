using ReaSeq.Processors.Knowledge.Agents;

namespace ReaSeq.Processors.Knowledge.Guards;

/// <summary>What the evidence guard kept, and how much it rejected (each count also goes to the metrics).</summary>
public sealed record GuardedAnalysis(ItemAnalysis Analysis, int RejectedEvidence, int RejectedDimensions, int RejectedKeywords);
