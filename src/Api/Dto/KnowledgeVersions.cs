namespace ReaSeq.Api.Dto;

/// <summary>The versions that produced an item's knowledge.</summary>
public sealed record KnowledgeVersions(string SemanticId, string Taxonomy, string Prompt, string Backend, string Encoder);
