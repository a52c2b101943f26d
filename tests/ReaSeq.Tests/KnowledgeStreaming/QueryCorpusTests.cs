using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Processors.Knowledge;
using ReaSeq.Processors.Knowledge.Streaming;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.KnowledgeStreaming;

/// <summary>reaseq.queries reaches the demand agent's corpus: per primary category, recency-weighted, bounded (issue 8 E16).</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class QueryCorpusTests(PostgresFixture postgres)
{
    private const long Now = 1_700_000_000_000;
    private const long Day = 86_400_000;

    [Fact]
    public async Task Queries_feed_the_demand_corpus_of_their_primary_category_heaviest_first_and_bounded()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 3);
        var options = new KnowledgeQueryOptions { MaxPerCategory = 4, MaxPerCorpus = 3, HalfLifeDays = 1 };
        var store = new PostgresQueryStore(platform.Db, options);
        var handler = new QueryCorpusHandler(new AvroSerde<SearchQuery>(), platform.Validator, platform.DeadLetters, store, platform.KafkaOptions);

        var queries = new List<SearchQuery>();
        void Add(string text, string category, long ts, int times = 1)
        {
            for (int i = 0; i < times; i++) queries.Add(new SearchQuery { Text = text, Category = category, TsMs = ts });
        }
        Add("Old  LANTERN", "Home", Now - 10 * Day, times: 4); // frequent but ten half-lives old: 4/1024
        Add("fairy lights", "Home", Now, times: 2);
        Add("candle holder", "Home", Now);
        Add("tea cup", "Home", Now - Day);                     // one half-life old: 0.5
        Add("string lights", "Home > Lighting", Now);           // counts for the primary level, where layer 1 runs
        Add("frying pan", "Kitchen", Now);
        Add("no category", "", Now);                             // dead-lettered: layer 1 builds per category
        Add("", "Home", Now);                                    // dead-lettered: text is required
        foreach (var q in queries) platform.Producer.Produce(Topics.Queries, q.Category, q);
        platform.Producer.Flush();

        platform.Run(handler, "q1");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(handler.Stored >= queries.Count - 2), TimeSpan.FromSeconds(60),
            $"query handler stored {queries.Count - 2} queries (now {handler.Stored})");

        var corpus = new PostgresCategoryCorpus(platform.Db, queries: store);
        var home = await corpus.GetCorpusAsync(CategoryPath.Of("Home", "Lighting"), 10, CancellationToken.None);
        Assert.Equal(["fairy lights", "candle holder", "string lights"], home.Queries);
        var kitchen = await corpus.GetCorpusAsync(CategoryPath.Of("Kitchen"), 10, CancellationToken.None);
        Assert.Equal(["frying pan"], kitchen.Queries);
        Assert.Empty((await corpus.GetCorpusAsync(CategoryPath.Of("Garden"), 10, CancellationToken.None)).Queries);

        // Bounded: five distinct Home queries, the lightest ("old lantern") pruned.
        Assert.Equal(4, await platform.ScalarAsync("select count(*) from category_queries where category = 'Home'"));
        Assert.Equal(0, await platform.ScalarAsync("select count(*) from category_queries where query = 'old lantern'"));

        var letters = platform.ReadAll(Topics.DeadLetters, 2, TimeSpan.FromSeconds(10))
            .Select(r => new AvroSerde<DeadLetter>().Deserialize(r.Message.Value)).Where(l => l.Processor == handler.Name).ToList();
        Assert.Equal(2, letters.Count);
    }
}
