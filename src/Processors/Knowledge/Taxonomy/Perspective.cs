namespace ReaSeq.Processors.Knowledge.Taxonomy;

/// <summary>The two complementary views of §2.1: what users seek, and what the item inherently offers.</summary>
public enum Perspective { Demand, Attribute }
