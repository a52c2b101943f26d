using ReaSeq.Contracts;
using ReaSeq.Ingestors.Replay;
using ReaSeq.Ingestors.Replay.OnlineRetail;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Replay;

namespace ReaSeq.Tests.Ingest;

[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class OnlineRetailEndToEndTests(PostgresFixture postgres)
{
    [OnlineRetailFact]
    public async Task Replaying_the_sample_through_kafka_yields_exactly_the_per_user_sequences_computed_from_the_csv()
    {
        var csv = Path.Combine(OnlineRetailData.FindDirectory()!, OnlineRetailData.SampleFileName);
        await using var platform = await TestPlatform.StartAsync(postgres);
        platform.Run(platform.NewItemIngestor(), "items");
        platform.Run(platform.NewClickIngestor(), "clicks");
        platform.Run(platform.NewImpressionIngestor(), "impressions");

        var source = new OnlineRetailSource(csv);
        var publisher = new ReplayPublisher(platform.Producer);
        await publisher.PublishAsync(source, speed: 0, CancellationToken.None);
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(publisher.PublishedByTopic.All(p => platform.Stats.For(p.Key).Consumed == p.Value)),
            TimeSpan.FromSeconds(90), "every published record consumed");

        var stored = new Dictionary<string, List<string>>();
        await using (var cmd = platform.Db.CreateCommand("select user_id, item_id from user_clicks order by user_id, seq"))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                (stored.TryGetValue(reader.GetString(0), out var list) ? list : stored[reader.GetString(0)] = []).Add(reader.GetString(1));
        }

        var expected = OnlineRetailReference.ExpectedClickSequences(csv);
        Assert.True(expected.Count > 50, "the sample holds purchases of many customers");
        Assert.Equal(expected.OrderBy(e => e.Key).ToList(), stored.OrderBy(e => e.Key).ToList());
        Assert.Equal(0, platform.DeadLetters.Count);
        Assert.Equal(publisher.Impressions, await platform.ScalarAsync("select count(*) from impressions"));
        Assert.Equal(expected.Values.Sum(v => v.Count), await platform.ScalarAsync("select count(*) from impressions where label = 1"));
        Assert.Equal(await platform.ScalarAsync("select count(distinct item_id) from user_clicks"),
            await platform.ScalarAsync("select count(*) from items i where exists (select 1 from user_clicks c where c.item_id = i.item_id)"));

        // A second replay of the same input changes nothing: every event id is already in the state.
        await new ReplayPublisher(platform.Producer).PublishAsync(new OnlineRetailSource(csv), 0, CancellationToken.None);
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(platform.Stats.For(Topics.Clicks).Consumed == 2 * publisher.Clicks),
            TimeSpan.FromSeconds(90), "the second replay consumed");
        Assert.Equal(publisher.Clicks, platform.Stats.For(Topics.Clicks).Duplicates);
        Assert.Equal(expected.Values.Sum(v => v.Count), await platform.ScalarAsync("select count(*) from user_clicks"));
    }
}
