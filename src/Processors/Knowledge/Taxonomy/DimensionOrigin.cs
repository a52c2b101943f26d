namespace ReaSeq.Processors.Knowledge.Taxonomy;

/// <summary>Why a dimension exists: built in layer 1, or kept/adapted/added by a layer-2 refinement.</summary>
public enum DimensionOrigin { Extracted, Inherited, Adapted, New }
