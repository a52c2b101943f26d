using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.SequenceStreaming;

namespace ReaSeq.Tests.Streaming;

/// <summary>
/// Issue 8 B5 for the ingest roles: a consumer that lost its partitions (a stall past max.poll.interval.ms) and wakes up
/// later must commit nothing once another consumer has claimed them, and its loop must not retry them for ever.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class FencingTests(PostgresFixture postgres)
{
    private const int Partitions = 6;

    private static List<TopicPartition> All(string topic) => [.. Enumerable.Range(0, Partitions).Select(p => new TopicPartition(topic, p))];

    [Fact]
    public async Task An_ingestor_whose_partitions_were_claimed_by_another_commits_nothing_and_the_new_owner_commits_everything()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, Partitions);
        var group = $"{platform.KafkaOptions.GroupPrefix}.ingest-clicks";
        for (var i = 0; i < 60; i++) platform.Producer.Produce(Topics.Clicks, SequenceStateTests.Click(i).UserId, SequenceStateTests.Click(i));
        platform.Producer.Flush();
        var batch = platform.ReadToEnd(Topics.Clicks, Partitions);

        var stale = platform.NewClickIngestor();
        var owner = platform.NewClickIngestor();
        stale.OnAssigned(All(Topics.Clicks));
        owner.OnAssigned(All(Topics.Clicks)); // the group moved the partitions while the stale one stalled

        var fenced = await Assert.ThrowsAsync<PartitionFencedException>(() => stale.HandleBatchAsync(batch, CancellationToken.None));
        Assert.Equal(Topics.Clicks, fenced.Topic);
        Assert.Equal(0, await platform.ScalarAsync("select count(*) from user_clicks"));
        Assert.Equal(0, await platform.ScalarAsync($"select coalesce(sum(next_offset), 0) from consumer_offsets where consumer_group = '{group}'"));

        await owner.HandleBatchAsync(batch, CancellationToken.None);
        Assert.Equal(batch.Count, await platform.ScalarAsync("select count(*) from user_clicks"));
        Assert.Equal(batch.Count, await platform.ScalarAsync($"select sum(next_offset) from consumer_offsets where consumer_group = '{group}'"));

        // The fence holds whatever the order: the stale consumer still cannot write after the owner did.
        await Assert.ThrowsAsync<PartitionFencedException>(() => stale.HandleBatchAsync(batch, CancellationToken.None));
        Assert.Equal(batch.Count, await platform.ScalarAsync("select count(*) from user_clicks"));
    }

    [Fact]
    public async Task A_running_loop_drops_the_partitions_another_consumer_claimed_and_keeps_the_others_flowing()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, Partitions);
        var group = $"{platform.KafkaOptions.GroupPrefix}.ingest-clicks";
        var ingestor = platform.NewClickIngestor();
        platform.Run(ingestor, "i1");
        await TestPlatform.WaitUntilAsync(async () => await platform.ScalarAsync($"select count(*) from consumer_offsets where consumer_group = '{group}'") == Partitions,
            TimeSpan.FromSeconds(30), "the ingestor claimed its partitions");

        // Another consumer claims partitions 0-2 (as after a rebalance this stalled consumer has not seen yet).
        await PgOffsets.ClaimOffsetsAsync(platform.Db, group, [.. Enumerable.Range(0, 3).Select(p => (Topics.Clicks, p))], CancellationToken.None);

        for (var i = 0; i < 120; i++) platform.Producer.Produce(Topics.Clicks, SequenceStateTests.Click(i).UserId, SequenceStateTests.Click(i));
        platform.Producer.Flush();
        var written = platform.ReadToEnd(Topics.Clicks, Partitions);
        int free = written.Count(r => r.Partition.Value >= 3);
        Assert.InRange(free, 1, written.Count - 1);

        // The unclaimed partitions make progress; the claimed ones commit nothing and do not stall the loop.
        await TestPlatform.WaitUntilAsync(async () => await platform.ScalarAsync("select count(*) from user_clicks") == free,
            TimeSpan.FromSeconds(30), "the unclaimed partitions' clicks are stored");
        Assert.Equal(0, await platform.ScalarAsync("select count(*) from user_clicks where kafka_partition < 3"));
        Assert.Equal(0, await platform.ScalarAsync($"select coalesce(sum(next_offset), 0) from consumer_offsets where consumer_group = '{group}' and partition < 3"));
        Assert.Empty(platform.Health.Stalled);
    }
}
