using System.Diagnostics;
using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Streaming;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.SequenceStreaming;

/// <summary>
/// Issue 8 B8 and F21: the category join of the sequence role is a function of the input, not of timing (which role
/// ran first, a broker outage while the batch is decided), categories follow event time, and clicks of items nobody
/// knows cost no wait. Real embedded broker (its fault API) and PostgreSQL.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class CategoryJoinTests(PostgresFixture postgres)
{
    private const long T0 = 1_600_000_000_000;
    private static readonly string[] Categories = ["toys", "garden", "kitchen"];

    private static ClickEvent Click(int i) => new()
    {
        EventId = $"c-{i}",
        UserId = $"user-{i % 10}",
        ItemId = $"item-{i * 7 % 23}",
        TsMs = T0 + i * 45_000L,
        Action = ClickAction.CLICK,
    };

    private static List<ConsumeResult<byte[]?, byte[]?>> Batch(List<ConsumeResult<byte[]?, byte[]?>> all, int from, int to) =>
        all.Where(r => int.Parse(new AvroSerde<ClickEvent>().Deserialize(r.Message.Value).EventId[2..]) is var n && n >= from && n < to)
            .OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value).ToList();

    [Fact]
    public async Task The_same_input_gives_byte_identical_updates_whether_the_catalog_role_lags_or_the_brokers_go_down_mid_batch()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        platform.Broker.CreateTopic("gaps.lagging", 6);
        platform.Broker.CreateTopic("gaps.settled", 6);
        for (var i = 0; i < 23; i++)
            platform.Producer.Produce(Topics.ItemUpdates, $"item-{i}", new ItemUpdate { ItemId = $"item-{i}", Title = $"Item {i}", CategoryPath = [Categories[i % 3], "sub"], TsMs = T0 - 1 });
        // item-5 moves to another category half-way through the clicks' event time.
        platform.Producer.Produce(Topics.ItemUpdates, "item-5", new ItemUpdate { ItemId = "item-5", Title = "Item 5", CategoryPath = ["lights"], TsMs = T0 + 120 * 45_000L });
        for (var i = 0; i < 240; i++) platform.Producer.Produce(Topics.Clicks, Click(i).UserId, Click(i));
        platform.Producer.Flush();
        var all = platform.ReadToEnd(Topics.Clicks);
        var batches = new[] { Batch(all, 0, 80), Batch(all, 80, 160), Batch(all, 160, 240) };

        async Task RunAsync(string output, bool outage)
        {
            using var processor = platform.NewSequenceProcessor(new SequenceDetectorOptions { Variant = DetectionVariant.TemporalOrCategory },
                new SequenceProcessorOptions { OutputTopic = output, CheckpointIntervalMs = 0, CatalogWaitMs = 20_000 });
            processor.OnAssigned(Enumerable.Range(0, 6).Select(p => new TopicPartition(Topics.Clicks, p)).ToList());
            for (var b = 0; b < batches.Length; b++)
            {
                if (outage && b == 1) platform.Broker.SetAllBrokers(up: false);
                var handling = processor.HandleBatchAsync(batches[b], CancellationToken.None);
                if (outage && b == 1)
                {
                    await Task.Delay(1_500);
                    platform.Broker.SetAllBrokers(up: true);
                }
                await handling;
            }
            processor.OnRevoked(Enumerable.Range(0, 6).Select(p => new TopicPartition(Topics.Clicks, p)).ToList());
            // The next run starts from nothing (the user table exists from migration 0006 on).
            await platform.ScalarAsync("do $$ begin if to_regclass('sequence_users') is not null then delete from sequence_users; end if; end $$");
            await platform.ScalarAsync("delete from sequence_checkpoints");
        }

        // First while the role that ingests items into PostgreSQL has not run yet, and with an outage mid-stream…
        await RunAsync("gaps.lagging", outage: true);
        // …then with the catalog settled in PostgreSQL, including the knowledge role's full-path category.
        platform.Run(platform.NewItemIngestor(), "items");
        await TestPlatform.WaitUntilAsync(async () => await platform.ScalarAsync("select count(*) from items") == 23, TimeSpan.FromSeconds(30), "items ingested");
        await platform.ScalarAsync("insert into item_knowledge select item_id, '', 'toys > sub', true, '{}', '{}', '{}', '{}', '', '', '', '', '', 0 from items");
        await RunAsync("gaps.settled", outage: false);

        var lagging = SequenceStateTests.Outputs(platform, "gaps.lagging");
        var settled = SequenceStateTests.Outputs(platform, "gaps.settled");
        Assert.Equal(240, settled.Keys.GroupBy(k => k.User).Sum(g => g.Max(k => k.Version)));
        Assert.All(lagging, kv => Assert.Single(kv.Value));
        Assert.Equal(settled.Keys.Order(), lagging.Keys.Order());
        foreach (var (key, hashes) in settled) Assert.Equal(hashes, lagging[key]);

        // Categories are the merchant's primary category as of each click's event time.
        var newest = platform.ReadToEnd("gaps.settled").Select(r => new AvroSerde<SequenceUpdate>().Deserialize(r.Message.Value)).ToList();
        var entries = newest.SelectMany(u => u.Window).ToList();
        Assert.Contains(newest, u => u.Gaps.Any(g => g.Reasons.Contains(GapReason.CD)));
        Assert.All(entries, e => Assert.Equal(e.ItemId == "item-5" && e.TsMs >= T0 + 120 * 45_000L ? "lights" : Categories[int.Parse(e.ItemId[5..]) % 3], e.Category));
    }

    [Fact]
    public async Task Clicks_of_items_no_catalog_knows_are_decided_without_waiting()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        for (var i = 0; i < 300; i++) platform.Producer.Produce(Topics.Clicks, Click(i).UserId, Click(i));
        platform.Producer.Flush();
        var batch = platform.ReadToEnd(Topics.Clicks).OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value).ToList();
        using var processor = platform.NewSequenceProcessor(options: new SequenceProcessorOptions { CheckpointIntervalMs = 0, CatalogWaitMs = 10_000 });
        processor.OnAssigned(Enumerable.Range(0, 6).Select(p => new TopicPartition(Topics.Clicks, p)).ToList());
        var clock = Stopwatch.StartNew();
        await processor.HandleBatchAsync(batch, CancellationToken.None);
        // The catalog does not know these items: that is an answer (no CD decision), not a reason to wait for one.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"a batch of unknown items took {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(300, processor.Consumed);
    }
}
