namespace ReaSeq.Processors.Knowledge;

/// <summary>What the category-level agents see: the category's search queries and (a sample of) its items.</summary>
public sealed record CategoryCorpus(CategoryPath Category, IReadOnlyList<string> Queries, IReadOnlyList<KnowledgeItem> Items);
