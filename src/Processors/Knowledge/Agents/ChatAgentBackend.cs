using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Processors.Knowledge.Prompts;
using ReaSeq.Processors.Knowledge.Taxonomy;

namespace ReaSeq.Processors.Knowledge.Agents;

/// <summary>
/// What a generative backend must produce for one call; a grammar-constrained backend derives its grammar from it.
/// Labels: the taxonomy labels allowed (layer 3: demand then attribute; layer 2: the parent's). Candidates: phrases
/// of the input data a constrained decoder may quote (layer 1-2: expressions/keys; layer 3: spans of the item).
/// </summary>
public sealed record AnswerShape(AgentLayer Layer, IReadOnlyList<string> DemandLabels, IReadOnlyList<string> AttributeLabels,
                                 IReadOnlyList<string> Candidates);

/// <summary>One turn of the conversation sent to a model.</summary>
public sealed record ChatTurn(string Role, string Text)
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";
}

/// <summary>
/// Shared logic of generative backends: renders the versioned prompts (item text only ever as escaped JSON inside
/// a data block), parses answers strictly, and re-asks with the validation error when an answer is malformed —
/// at most <c>maxOutputAttempts</c> times, then <see cref="AgentOutputException"/>. Subclasses only transport text.
/// </summary>
public abstract class ChatAgentBackend : IKnowledgeAgentBackend
{
    private const int MaxCorpusLines = 300;
    private const int MaxFieldLength = 2000;

    private readonly PromptLibrary _prompts;
    private readonly int _maxOutputAttempts;

    protected ChatAgentBackend(PromptLibrary prompts, int maxOutputAttempts, KnowledgeMetrics? metrics, ILogger? logger)
    {
        _prompts = prompts ?? throw new ArgumentNullException(nameof(prompts));
        if (maxOutputAttempts < 1) throw new ArgumentOutOfRangeException(nameof(maxOutputAttempts), "At least one attempt is needed.");
        _maxOutputAttempts = maxOutputAttempts;
        Metrics = metrics ?? new KnowledgeMetrics();
        Logger = logger ?? NullLogger.Instance;
    }

    public abstract string Name { get; }

    public string PromptVersion => _prompts.Version;

    protected KnowledgeMetrics Metrics { get; }

    protected ILogger Logger { get; }

    /// <summary>Sends the conversation and returns the model's text. Transport errors are the subclass's to retry.</summary>
    protected abstract Task<string> CompleteAsync(IReadOnlyList<ChatTurn> conversation, AnswerShape shape, CancellationToken cancellationToken);

    public Task<DimensionTaxonomy> ExtractDemandTaxonomyAsync(DemandExtractionInput input, CancellationToken cancellationToken)
    {
        bool fromQueries = input.Queries.Count > 0;
        var data = fromQueries
            ? PromptLibrary.Data(new { queries = input.Queries.Select(Clip).Distinct().Take(MaxCorpusLines) })
            : PromptLibrary.Data(new { items = input.Items.Take(MaxCorpusLines).Select(i => new { title = Clip(i.Title), description = Clip(i.Description) }) });
        var prompt = _prompts.Render(PromptLibrary.Layer1Demand, new Dictionary<string, string>
        {
            ["category"] = PromptLibrary.Data(input.Category.ToString()),
            ["source"] = fromQueries ? "search queries of the category" : "item titles and descriptions (no queries recorded)",
            ["data"] = data,
        });
        var candidates = fromQueries
            ? input.Queries.Select(q => q.Trim()).Where(q => q.Length > 0).GroupBy(q => q, StringComparer.OrdinalIgnoreCase)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key).ToArray()
            : FrequentPhrases(input.Items.SelectMany(i => new[] { i.Title, i.Description }), 2, 3);
        return AskAsync(prompt, new AnswerShape(AgentLayer.DemandTaxonomy, [], [], candidates),
            answer => AgentAnswerParser.ParseTaxonomy(answer, input.Category, Perspective.Demand), cancellationToken);
    }

    public Task<DimensionTaxonomy> ExtractAttributeTaxonomyAsync(AttributeExtractionInput input, CancellationToken cancellationToken)
    {
        var keys = input.Items.SelectMany(i => i.Attributes)
            .GroupBy(a => a.Key.Trim(), StringComparer.OrdinalIgnoreCase)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(MaxCorpusLines)
            .Select(g => new { key = Clip(g.Key), items = g.Count(), values = g.Select(a => Clip(a.Value)).Distinct().Take(8) })
            .ToArray();
        var prompt = _prompts.Render(PromptLibrary.Layer1Attribute, new Dictionary<string, string>
        {
            ["category"] = PromptLibrary.Data(input.Category.ToString()),
            ["source"] = keys.Length > 0 ? "merchant attribute keys with example values" : "no merchant attributes: item titles and descriptions",
            ["data"] = keys.Length > 0
                ? PromptLibrary.Data(new { attributes = keys })
                : PromptLibrary.Data(new { items = input.Items.Take(MaxCorpusLines).Select(i => new { title = Clip(i.Title), description = Clip(i.Description) }) }),
        });
        string[] candidates = keys.Length > 0
            ? keys.Select(k => k.key).ToArray()
            : FrequentPhrases(input.Items.SelectMany(i => new[] { i.Title, i.Description }), 1, 1);
        return AskAsync(prompt, new AnswerShape(AgentLayer.AttributeTaxonomy, [], [], candidates),
            answer => AgentAnswerParser.ParseTaxonomy(answer, input.Category, Perspective.Attribute), cancellationToken);
    }

    public Task<DimensionTaxonomy> RefineTaxonomyAsync(RefinementInput input, CancellationToken cancellationToken)
    {
        var parent = input.Parent;
        var prompt = _prompts.Render(PromptLibrary.Layer2Refine, new Dictionary<string, string>
        {
            ["perspective"] = parent.Perspective == Perspective.Demand ? "user-demand" : "product-attribute",
            ["category"] = PromptLibrary.Data(input.SubCategory.ToString()),
            ["data"] = PromptLibrary.Data(new
            {
                parentCategory = parent.Category.ToString(),
                parentDimensions = parent.Dimensions.Select(d => new { label = d.Label, description = d.Description, members = d.Members }),
                sampleItems = input.SampleItems.Select(ItemData),
            }),
        });
        var candidates = parent.Dimensions.SelectMany(d => d.Members)
            .Concat(input.SampleItems.SelectMany(i => i.Attributes.Keys))
            .Concat(FrequentPhrases(input.SampleItems.Select(i => i.Title), 1, 3))
            .Distinct(StringComparer.OrdinalIgnoreCase).Take(MaxCandidates).ToArray();
        var labels = parent.Dimensions.Select(d => d.Label).ToArray();
        return AskAsync(prompt, new AnswerShape(AgentLayer.Refinement, parent.Perspective == Perspective.Demand ? labels : [],
                parent.Perspective == Perspective.Attribute ? labels : [], candidates),
            answer => AgentAnswerParser.ParseRefinement(answer, input.SubCategory, parent.Perspective), cancellationToken);
    }

    public Task<ItemAnalysis> AnalyzeItemAsync(ItemAnalysisInput input, CancellationToken cancellationToken)
    {
        var taxonomies = input.Taxonomies;
        var dimensions = taxonomies.Demand.Dimensions.Select(d => new { perspective = "demand", label = d.Label, description = d.Description })
            .Concat(taxonomies.Attribute.Dimensions.Select(d => new { perspective = "attribute", label = d.Label, description = d.Description }));
        var prompt = _prompts.Render(PromptLibrary.Layer3Item, new Dictionary<string, string>
        {
            ["category"] = PromptLibrary.Data(taxonomies.Category.ToString()),
            ["dimensions"] = PromptLibrary.Data(dimensions),
            ["data"] = PromptLibrary.Data(ItemData(input.Item)),
        });
        var item = input.Item;
        var spans = item.Attributes.Values.Select(v => v.Trim())
            .Concat(Extractive.PhraseExtractor.NGrams(item.Title, 1, 4).Select(p => p.Verbatim))
            .Concat(Extractive.PhraseExtractor.NGrams(item.Description, 1, 4).Select(p => p.Verbatim))
            .Where(v => v.Length is > 0 and <= AgentAnswerParser.MaxEvidenceLength)
            .Distinct(StringComparer.Ordinal).Take(MaxCandidates).ToArray();
        var shape = new AnswerShape(AgentLayer.ItemKnowledge,
            taxonomies.Demand.Dimensions.Select(d => d.Label).ToArray(), taxonomies.Attribute.Dimensions.Select(d => d.Label).ToArray(), spans);
        return AskAsync(prompt, shape, answer => AgentAnswerParser.ParseItem(answer, taxonomies), cancellationToken);
    }

    private static object ItemData(KnowledgeItem item) => new
    {
        title = Clip(item.Title),
        description = Clip(item.Description),
        attributes = item.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).ToDictionary(a => Clip(a.Key), a => Clip(a.Value)),
    };

    private const int MaxCandidates = 160;

    /// <summary>Phrases occurring in at least two texts (or all, if none recur), most frequent first.</summary>
    private static string[] FrequentPhrases(IEnumerable<string> texts, int minWords, int maxWords)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            foreach (var phrase in Extractive.PhraseExtractor.NGrams(text, minWords, maxWords).Select(p => p.Normalised).Distinct())
                counts[phrase] = counts.GetValueOrDefault(phrase) + 1;
        }

        var recurring = counts.Where(c => c.Value >= 2).ToArray();
        return (recurring.Length > 0 ? recurring : counts.ToArray())
            .OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(MaxCandidates).Select(c => c.Key).ToArray();
    }

    private static string Clip(string text) => text.Length <= MaxFieldLength ? text : text[..MaxFieldLength];

    private async Task<T> AskAsync<T>(RenderedPrompt prompt, AnswerShape shape, Func<string, T> parse, CancellationToken cancellationToken)
    {
        // Every call is its own conversation: nothing of one item's answer can reach another item's prompt.
        var conversation = new List<ChatTurn> { new(ChatTurn.System, prompt.System), new(ChatTurn.User, prompt.User) };
        AgentAnswerFormatException? last = null;
        string? lastAnswer = null;
        for (int attempt = 1; attempt <= _maxOutputAttempts; attempt++)
        {
            lastAnswer = await CompleteAsync(conversation, shape, cancellationToken);
            try
            {
                return parse(lastAnswer);
            }
            catch (AgentAnswerFormatException e)
            {
                last = e;
                Logger.LogWarning("{Backend} {Layer} answer rejected (attempt {Attempt}/{Max}): {Reason} {Message}",
                    Name, shape.Layer, attempt, _maxOutputAttempts, e.Reason, e.Message);
                if (attempt == _maxOutputAttempts) break;
                Metrics.Retry(Name, shape.Layer, e.Reason == AgentOutputFailure.InvalidJson ? "invalid_json" : "schema_violation");
                conversation = [conversation[0], conversation[1],
                    new(ChatTurn.Assistant, lastAnswer.Length > 4000 ? lastAnswer[..4000] : lastAnswer),
                    new(ChatTurn.User, $"Your answer was rejected: {e.Message}. Answer again: reasoning, then exactly one ```json block following the required shape.")];
            }
        }
        throw new AgentOutputException(Name, shape.Layer, last!.Reason,
            $"no valid answer after {_maxOutputAttempts} attempt(s): {last.Message}", lastAnswer, last);
    }
}
