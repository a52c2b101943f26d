using ReaSeq.Processors.Knowledge;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Agents.LlamaSharp;
using ReaSeq.Processors.Knowledge.Guards;
using ReaSeq.Processors.Knowledge.Taxonomy;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Knowledge;

/// <summary>A tiny random-weight GGUF model written once per test class.</summary>
public sealed class TinyModelFixture : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"reaseq-tiny-{Guid.NewGuid():N}.gguf");
    public TinyModelFixture() => TinyGgufModel.Write(Path);
    public void Dispose() => File.Delete(Path);

    /// <summary>Short free text keeps the random model's answers (noise, but grammatical) quick to generate.</summary>
    public LlamaSharpAgentOptions Options() => new() { ModelPath = Path, ContextSize = 8192, MaxTokens = 768, MaxFreeTextChars = 16, Threads = 2 };
}

/// <summary>
/// The contract suite on a real llama.cpp model: the random weights produce noise, so everything the suite checks
/// (distinct labels, grounded evidence, structure, determinism) is owed to the grammar and the parser.
/// </summary>
[Collection(EncoderCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class LlamaSharpBackendContractTests(EncoderFixture encoder, TinyModelFixture model)
    : KnowledgeAgentBackendContract(encoder), IClassFixture<TinyModelFixture>, IDisposable
{
    private readonly List<LlamaSharpAgentBackend> _backends = [];

    protected override IKnowledgeAgentBackend CreateBackend()
    {
        var backend = new LlamaSharpAgentBackend(model.Options());
        _backends.Add(backend);
        return backend;
    }

    public void Dispose()
    {
        foreach (var b in _backends) b.Dispose();
    }
}

[Trait(Tier.Name, Tier.Integration)]
public sealed class LlamaSharpAgentBackendTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    private static readonly CategoryPath Records = CategoryPath.Of("Music", "Vinyl");

    [Fact]
    public async Task Quotes_backslashes_and_non_ascii_evidence_survive_the_grammar_and_the_parser()
    {
        using var backend = new LlamaSharpAgentBackend(model.Options());
        var item = new KnowledgeItem("lp", "12\" vinyl \\ Café edition", "Pressed on 180g vinyl.", Records.Segments,
            new Dictionary<string, string> { ["format"] = "12\" LP" });
        var taxonomies = new CategoryTaxonomies(
            new DimensionTaxonomy(Records, Perspective.Demand, [new TaxonomyDimension("Collectability", "", [])], ""),
            new DimensionTaxonomy(Records, Perspective.Attribute, [new TaxonomyDimension("Format", "", ["format"])], ""), "v1", backend.Name);

        var analysis = await backend.AnalyzeItemAsync(new ItemAnalysisInput(item, taxonomies), default);

        var sources = item.EvidenceSources().Select(EvidenceGuard.Normalise).ToArray();
        Assert.NotEmpty(analysis.Dimensions);
        Assert.All(analysis.Dimensions.SelectMany(d => d.Evidence),
            e => Assert.Contains(sources, s => s.Contains(EvidenceGuard.Normalise(e), StringComparison.Ordinal)));
    }

    [Fact]
    public void Grammar_literals_are_json_then_gbnf_escaped()
    {
        Assert.Equal("\"\\\"12\\\\u0022 Caf\\\\u00E9 \\\\\\\\\\\"\"", AnswerGrammar.Literal("12\" Café \\"));
        var grammar = AnswerGrammar.For(new AnswerShape(AgentLayer.ItemKnowledge, ["Comfort"], ["Material"], ["soft", "cotton"]), 40);
        Assert.Contains("span ::= \"\\\"soft\\\"\" | \"\\\"cotton\\\"\"", grammar);
        Assert.Contains("{0,39}", grammar);
        Assert.Throws<ArgumentException>(() => AnswerGrammar.For(new AnswerShape(AgentLayer.ItemKnowledge, ["Comfort"], [], [])));
    }

    [Fact]
    public void A_missing_model_file_is_a_clear_error()
    {
        var error = Assert.Throws<FileNotFoundException>(() => new LlamaSharpAgentBackend(new LlamaSharpAgentOptions { ModelPath = "/nonexistent/model.gguf" }));
        Assert.Contains("/nonexistent/model.gguf", error.Message);
    }
}
