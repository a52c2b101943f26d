using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts.Knowledge;
using ReaSeq.Processors.Knowledge;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Taxonomy;

namespace ReaSeq.Tools.Eval;

/// <summary>
/// §2.1.2 knowledge vectors: every item through the reasoner (taxonomies per category, layer 3, evidence guard,
/// dual-perspective encoding). Items the pipeline would dead-letter (no grounded knowledge) get no vector.
/// </summary>
public static class KnowledgeVectors
{
    public static KnowledgeItem ToKnowledgeItem(EvalItem item) =>
        new(item.ItemId, item.Title, categoryPath: item.Category is null ? [] : [item.Category]);

    public static IKnowledgeAgentBackend Backend(ISentenceEncoder encoder) =>
        KnowledgeAgentBackendFactory.Create(new KnowledgeAgentOptions { Backend = KnowledgeAgentOptions.Extractive }, encoder,
            loggerFactory: NullLoggerFactory.Instance);

    public static async Task<KnowledgeVectorsResult> ComputeAsync(ISentenceEncoder encoder, IReadOnlyList<EvalItem> items, CancellationToken ct)
    {
        var knowledgeItems = items.Select(ToKnowledgeItem).ToList();
        var backend = Backend(encoder);
        var reasoner = new KnowledgeReasoner(backend, encoder, new InMemoryTaxonomyCache(), new InMemoryCategoryCorpus(knowledgeItems));
        var vectors = new float[]?[items.Count];
        var progress = new ProgressReporter("eval knowledge: reasoning + encoding", items.Count);
        int failed = 0;
        for (int i = 0; i < knowledgeItems.Count; i++)
        {
            try
            {
                vectors[i] = (await reasoner.AnalyzeItemAsync(knowledgeItems[i], ct)).Vector;
            }
            catch (AgentOutputException)
            {
                failed++;
            }
            progress.Report(i + 1);
        }
        progress.Report(items.Count, final: true);
        return new KnowledgeVectorsResult(vectors, failed, progress.ItemsPerSecond(items.Count), reasoner.BackendName, reasoner.PromptVersion);
    }
}
