using ReaSeq.Processors.Knowledge;
using ReaSeq.Processors.Knowledge.Agents.Extractive;
using ReaSeq.Processors.Knowledge.Taxonomy;
using Xunit;
using Xunit.Abstractions;

namespace ReaSeq.Tests.Knowledge;

[Collection(EncoderCollection.Name)]
public sealed class ExtractiveExplorationTests(EncoderFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Dump()
    {
        var corpus = new InMemoryCategoryCorpus(KnowledgeTestData.Apparel().Concat(KnowledgeTestData.Kitchen()).Concat(KnowledgeTestData.OnlineRetail(60)));
        foreach (var q in KnowledgeTestData.ApparelQueries()) corpus.AddQuery("Apparel", q);
        var reasoner = new KnowledgeReasoner(new ExtractiveAgentBackend(fixture.Encoder), fixture.Encoder, new InMemoryTaxonomyCache(), corpus);
        foreach (var cat in new[] { CategoryPath.Of("Apparel", "Tops", "Hoodies"), CategoryPath.Of("Home", "Lighting"), CategoryPath.Of("Kitchen", "Cookware", "Pans") })
        {
            var t = await reasoner.GetTaxonomiesAsync(cat, default);
            foreach (var tax in new[] { t.Demand, t.Attribute })
            {
                output.WriteLine($"== {tax.Category} {tax.Perspective}\n{tax.Reasoning}");
                foreach (var d in tax.Dimensions) output.WriteLine($"  [{d.Origin}] {d.Label} :: {string.Join(" | ", d.Members)} -- {d.Justification}");
            }
        }
        foreach (var item in KnowledgeTestData.Apparel().Take(2).Concat(KnowledgeTestData.OnlineRetail(60).Take(3)).Concat(KnowledgeTestData.Kitchen().Skip(2).Take(1)))
        {
            var r = await reasoner.AnalyzeItemAsync(item, default);
            output.WriteLine($"## {item.Title} rej={r.RejectedEvidence}");
            foreach (var d in r.DemandDimensions.Concat(r.AttributeDimensions)) output.WriteLine($"  {d.Perspective} {d.Label}: [{string.Join(" | ", d.Evidence)}] kw={string.Join(",", d.Keywords)}");
        }
        var un = new KnowledgeItem("x", "Grey wool knitted hoodie", "cosy");
        output.WriteLine((await reasoner.ClassifyAsync(un, default)).ToString());
    }
}
