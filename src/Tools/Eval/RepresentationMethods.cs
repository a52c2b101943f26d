namespace ReaSeq.Tools.Eval;

public sealed record KnowledgeVectorsResult(IReadOnlyList<float[]?> Vectors, int Failed, double ItemsPerSecond, string Backend, string PromptVersion);
