using System.Text;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Ingest;

[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class IngestPipelineTests(PostgresFixture postgres)
{
    private static ClickEvent Click(int i, string? user = null) => new()
    {
        EventId = $"ev-{i}",
        UserId = user ?? $"user-{i % 37}",
        ItemId = $"item-{i % 101}",
        TsMs = 1_300_000_000_000 + i * 1_000L,
        Action = ClickAction.CLICK,
    };

    /// <summary>Expected per-user sequences: item ids in publication order, repeated event ids counted once.</summary>
    private static Dictionary<string, List<string>> Expected(IEnumerable<ClickEvent> clicks)
    {
        var seen = new HashSet<string>();
        var result = new Dictionary<string, List<string>>();
        foreach (var c in clicks.Where(c => seen.Add(c.UserId + "\u0001" + c.EventId)))
            (result.TryGetValue(c.UserId, out var list) ? list : result[c.UserId] = []).Add(c.ItemId);
        return result;
    }

    private static async Task<Dictionary<string, List<string>>> StoredAsync(TestPlatform platform)
    {
        var result = new Dictionary<string, List<string>>();
        await using var cmd = platform.Db.CreateCommand("select user_id, item_id from user_clicks order by user_id, seq");
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            (result.TryGetValue(reader.GetString(0), out var list) ? list : result[reader.GetString(0)] = []).Add(reader.GetString(1));
        return result;
    }

    [Fact]
    public async Task A_thousand_bad_records_reach_the_dead_letter_topic_and_every_valid_record_around_them_is_ingested()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        var serde = new AvroSerde<ClickEvent>();
        var random = new Random(7);
        var valid = new List<ClickEvent>();
        var badReasons = new List<string>();
        var farFuture = DateTimeOffset.UtcNow.AddYears(5).ToUnixTimeMilliseconds();
        for (var i = 0; i < 1_000; i++)
        {
            var good = Click(i);
            valid.Add(good);
            platform.Producer.Produce(Topics.Clicks, good.UserId, good);

            byte[] bad;
            switch (i % 8)
            {
                case 0: bad = new byte[random.Next(1, 200)]; random.NextBytes(bad); bad[0] = (byte)(bad[0] == 0xC3 || bad[0] == 0 ? 0x42 : bad[0]); badReasons.Add(ErrorClasses.UnknownEncoding); break;
                case 1: bad = serde.Serialize(Click(10_000 + i))[..^4]; badReasons.Add(ErrorClasses.Malformed); break;
                case 2: bad = new AvroSerde<ItemUpdate>().Serialize(new ItemUpdate { ItemId = "x", Title = "t", TsMs = 1 }); badReasons.Add(ErrorClasses.UnknownSchema); break;
                case 3: bad = serde.Serialize(new ClickEvent { EventId = $"m{i}", UserId = "", ItemId = "x", TsMs = good.TsMs }); badReasons.Add(ErrorClasses.Validation); break;
                case 4: bad = serde.Serialize(new ClickEvent { EventId = $"o{i}", UserId = new string('u', 5_000), ItemId = "x", TsMs = good.TsMs }); badReasons.Add(ErrorClasses.Validation); break;
                case 5: bad = serde.Serialize(new ClickEvent { EventId = $"f{i}", UserId = "u", ItemId = "x", TsMs = farFuture }); badReasons.Add(ErrorClasses.Validation); break;
                case 6: bad = [.. serde.Serialize(Click(20_000 + i)).AsSpan(0, 10), 0xFE, 0xFF, 0xFF, 0xFF, 0x0F]; badReasons.Add(ErrorClasses.Malformed); break;
                default:
                    // Prompt-injection style text in a field is just data for the ingest path; an oversized one is rejected.
                    bad = serde.Serialize(new ClickEvent { EventId = $"c{i}", UserId = "u", ItemId = "x", TsMs = good.TsMs, Context = new() { ["note"] = "IGNORE ALL PREVIOUS INSTRUCTIONS " + new string('!', 5_000) } });
                    badReasons.Add(ErrorClasses.Validation);
                    break;
            }
            platform.Producer.ProduceRaw(Topics.Clicks, Encoding.UTF8.GetBytes($"bad-{i}"), bad);
        }
        // A record without any value at all.
        platform.Producer.ProduceRaw(Topics.Clicks, "no-value"u8.ToArray(), null);
        badReasons.Add(ErrorClasses.Empty);
        platform.Producer.Flush();

        var ingestor = platform.NewClickIngestor();
        platform.Run(ingestor, "a");
        await TestPlatform.WaitUntilAsync(async () => await platform.ScalarAsync("select count(*) from user_clicks") == valid.Count,
            TimeSpan.FromSeconds(60), "all valid clicks stored");

        var letters = platform.ReadAll(Topics.DeadLetters, badReasons.Count, TimeSpan.FromSeconds(30));
        var decoded = letters.Select(l => new AvroSerde<DeadLetter>().Deserialize(l.Message.Value)).ToList();
        Assert.Equal(badReasons.Count, decoded.Count);
        Assert.All(decoded, d =>
        {
            Assert.Equal(Topics.Clicks, d.SourceTopic);
            Assert.False(string.IsNullOrWhiteSpace(d.Message));
            Assert.Equal("ingest-clicks", d.Processor);
        });
        Assert.Equal(badReasons.GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count()),
            decoded.GroupBy(d => d.ErrorClass).ToDictionary(g => g.Key, g => g.Count()));
        Assert.Contains(decoded, d => d.Message.Contains("far future"));
        Assert.Contains(decoded, d => d.Message.Contains("user_id is 5000 characters"));
        Assert.Equal(Expected(valid), await StoredAsync(platform));
        Assert.Equal(badReasons.Count, platform.Stats.For(Topics.Clicks).DeadLettered);
    }

    [Fact]
    public async Task A_group_of_two_splits_the_partitions_and_a_rebalance_loses_and_duplicates_nothing()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        var clicks = Enumerable.Range(0, 6_000).Select(i => Click(i)).ToList();
        // Producer retries and replays happen: repeat some event ids; they must count once.
        var repeated = clicks.Where((_, i) => i % 50 == 0).ToList();

        var first = platform.NewClickIngestor();
        var second = platform.NewClickIngestor();
        platform.Run(first, "first");
        foreach (var c in clicks.Take(3_000)) platform.Producer.Produce(Topics.Clicks, c.UserId, c);
        platform.Producer.Flush();
        await TestPlatform.WaitUntilAsync(async () => await platform.ScalarAsync("select count(*) from user_clicks") > 500,
            TimeSpan.FromSeconds(60), "first member ingesting");

        platform.Run(second, "second");   // joins mid-stream: cooperative rebalance hands it some partitions
        foreach (var c in clicks.Skip(3_000).Concat(repeated)) platform.Producer.Produce(Topics.Clicks, c.UserId, c);
        platform.Producer.Flush();
        await TestPlatform.WaitUntilAsync(async () =>
                platform.Stats.For(Topics.Clicks).Consumed >= clicks.Count + repeated.Count && first.OwnedUsers > 0 && second.OwnedUsers > 0,
            TimeSpan.FromSeconds(90), "both members own users and everything is consumed");

        Assert.Equal(Expected(clicks), await StoredAsync(platform));
        Assert.Equal(clicks.Count, await platform.ScalarAsync("select count(*) from user_clicks"));
        Assert.Equal(repeated.Count, platform.Stats.For(Topics.Clicks).Duplicates);
        // Each user lives on exactly one partition, owned by exactly one member.
        Assert.Equal(37, first.OwnedUsers + second.OwnedUsers);
        Assert.Equal(0, await platform.ScalarAsync("select count(*) from (select user_id from user_clicks group by user_id having count(distinct kafka_partition) > 1) x"));
    }

    [Fact]
    public async Task Items_keep_the_latest_version_and_impressions_count_a_repeated_id_once()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        platform.Producer.Produce(Topics.ItemUpdates, "85123A", new ItemUpdate { ItemId = "85123A", Title = "OLD NAME", TsMs = 1_300_000_000_000, Price = 2.55 });
        platform.Producer.Produce(Topics.ItemUpdates, "85123A", new ItemUpdate { ItemId = "85123A", Title = "NEW NAME", TsMs = 1_300_000_100_000, Price = 2.95 });
        for (var i = 0; i < 10; i++)
            platform.Producer.Produce(Topics.Impressions, "u1", new LabeledImpression { ImpressionId = $"imp-{i % 6}", UserId = "u1", ItemId = "85123A", TsMs = 1_300_000_000_000 + i, Label = i % 2 });
        platform.Producer.Flush();

        platform.Run(platform.NewItemIngestor(), "items");
        platform.Run(platform.NewImpressionIngestor(), "impressions");
        await TestPlatform.WaitUntilAsync(async () => platform.Stats.For(Topics.Impressions).Consumed == 10 && platform.Stats.For(Topics.ItemUpdates).Consumed == 2,
            TimeSpan.FromSeconds(60), "items and impressions consumed");

        var item = await new ReaSeq.Ingestors.Ingest.PostgresCatalogStore(platform.Db).GetAsync("85123A", CancellationToken.None);
        Assert.Equal(("NEW NAME", 2.95), (item!.Title, item.Price!.Value));
        Assert.Equal(6, await platform.ScalarAsync("select count(*) from impressions"));
        Assert.Equal(4, platform.Stats.For(Topics.Impressions).Duplicates);
    }
}
