namespace ReaSeq.Processors.Knowledge.Agents;

/// <summary>The agent stage a call belongs to (metric tag, error context, prompt choice).</summary>
public enum AgentLayer { DemandTaxonomy, AttributeTaxonomy, Refinement, ItemKnowledge }
