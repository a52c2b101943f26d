using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Sequence.Streaming;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Streaming;

/// <summary>
/// Outputs and dead letters are delivered before the state that produced them commits: a broker outage longer than
/// message.timeout.ms fails the batch (the consumer loop retries it) instead of committing state whose outputs were lost.
/// The handlers are driven the way the loop drives them (the same batch again after a failure), on the embedded
/// broker with its brokers taken down, and on a real PostgreSQL.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class DeliveryTests(PostgresFixture postgres)
{
    private static readonly TimeSpan FailWithin = TimeSpan.FromSeconds(20);

    private static ClickEvent Click(int i, int users = 5) => new()
    {
        EventId = $"ev-{i}",
        UserId = $"user-{i % users}",
        ItemId = $"item-{i % 13}",
        TsMs = 1_600_000_000_000 + i * 60_000L,
        Action = ClickAction.CLICK,
        Context = new() { ["category"] = i % 2 == 0 ? "toys" : "garden" },
    };

    private static List<TopicPartition> Partitions(string topic, int count = 6) =>
        Enumerable.Range(0, count).Select(p => new TopicPartition(topic, p)).ToList();

    [Fact]
    public async Task Sequence_updates_not_delivered_fail_the_batch_and_nothing_commits_until_the_brokers_return()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, configure: TestPlatform.ShortTimeouts());
        var clicks = Enumerable.Range(0, 40).Select(i => Click(i)).ToList();
        foreach (var c in clicks) platform.Producer.Produce(Topics.Clicks, c.UserId, c);
        platform.Producer.Flush();
        var batch = platform.ReadToEnd(Topics.Clicks).OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value).ToList();
        Assert.Equal(clicks.Count, batch.Count);

        using var processor = platform.NewSequenceProcessor(options: new SequenceProcessorOptions { CheckpointIntervalMs = 0, CatalogWaitMs = 0 });
        processor.OnAssigned(Partitions(Topics.Clicks));

        platform.Broker.SetAllBrokers(up: false);
        await Assert.ThrowsAsync<DeliveryFailedException>(() => processor.HandleBatchAsync(batch, CancellationToken.None).WaitAsync(FailWithin));
        Assert.Equal(0, await platform.ScalarAsync("select count(*) from sequence_checkpoints"));

        // The loop retries the same batch once the cluster is back: every update arrives and the state commits.
        platform.Broker.SetAllBrokers(up: true);
        await processor.HandleBatchAsync(batch, CancellationToken.None).WaitAsync(FailWithin);
        var partitions = batch.Select(r => r.Partition.Value).Distinct().Count();
        // The checkpoint is written off the consumer thread once the batch is delivered (issue 8 D12).
        await TestPlatform.WaitUntilAsync(async () => await platform.ScalarAsync("select count(*) from sequence_checkpoints") == partitions,
            FailWithin, "the batch's checkpoint written");
        Assert.Equal(batch.Count, await platform.ScalarAsync("select coalesce(sum(next_offset), 0) from sequence_checkpoints"));

        var updates = platform.ReadAll(Topics.SequenceGaps, 5, TimeSpan.FromSeconds(20))
            .Select(r => (Update: new AvroSerde<SequenceUpdate>().Deserialize(r.Message.Value), Bytes: Convert.ToHexString(r.Message.Value!)))
            .ToList();
        // One update per user (the batch's newest), possibly repeated byte for byte, never different.
        var perUser = updates.GroupBy(u => u.Update.UserId).ToDictionary(g => g.Key, g => g.Select(u => u.Bytes).Distinct().ToList());
        Assert.Equal(clicks.Select(c => c.UserId).Distinct().Order(), perUser.Keys.Order());
        Assert.All(perUser.Values, v => Assert.Single(v));
        Assert.All(updates, u => Assert.Equal(clicks.Count(c => c.UserId == u.Update.UserId), u.Update.SequenceVersion));
        Assert.Equal(clicks.Count, processor.Consumed);
    }

    [Fact]
    public async Task Dead_letters_not_delivered_fail_the_ingest_batch_and_no_offset_commits_until_the_brokers_return()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, configure: TestPlatform.ShortTimeouts());
        var clicks = Enumerable.Range(0, 20).Select(i => Click(i)).ToList();
        foreach (var c in clicks) platform.Producer.Produce(Topics.Clicks, c.UserId, c);
        for (var i = 0; i < 5; i++) platform.Producer.ProduceRaw(Topics.Clicks, "user-1"u8.ToArray(), [0x42, (byte)i]);
        platform.Producer.Flush();
        var batch = platform.ReadToEnd(Topics.Clicks).OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value).ToList();

        var ingestor = platform.NewClickIngestor();
        ingestor.OnAssigned(Partitions(Topics.Clicks));

        platform.Broker.SetAllBrokers(up: false);
        await Assert.ThrowsAsync<DeliveryFailedException>(() => ingestor.HandleBatchAsync(batch, CancellationToken.None).WaitAsync(FailWithin));
        Assert.Equal(0, await platform.ScalarAsync("select coalesce(sum(next_offset), 0) from consumer_offsets"));
        Assert.Equal(0, await platform.ScalarAsync("select count(*) from user_clicks"));

        platform.Broker.SetAllBrokers(up: true);
        await ingestor.HandleBatchAsync(batch, CancellationToken.None).WaitAsync(FailWithin);
        Assert.Equal(clicks.Count, await platform.ScalarAsync("select count(*) from user_clicks"));
        Assert.Equal(batch.Count, await platform.ScalarAsync("select coalesce(sum(next_offset), 0) from consumer_offsets"));
        var letters = platform.ReadAll(Topics.DeadLetters, 5, TimeSpan.FromSeconds(20))
            .Select(r => new AvroSerde<DeadLetter>().Deserialize(r.Message.Value)).ToList();
        Assert.Equal(5, letters.Select(l => (l.SourcePartition, l.SourceOffset)).Distinct().Count());
        Assert.All(letters, l => Assert.Equal(ErrorClasses.UnknownEncoding, l.ErrorClass));
    }

    [Fact]
    public async Task A_loop_waiting_for_its_dead_letters_is_not_released_by_another_loops_flush()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, configure: TestPlatform.ShortTimeouts(messageTimeoutMs: 4_000));
        platform.Producer.ProduceRaw(Topics.Clicks, "a"u8.ToArray(), [0x42]);
        platform.Producer.ProduceRaw(Topics.Clicks, "b"u8.ToArray(), [0x43]);
        platform.Producer.Flush();
        var records = platform.ReadToEnd(Topics.Clicks);
        Assert.Equal(2, records.Count);

        platform.Broker.SetAllBrokers(up: false);
        // Two loops share the one publisher: each dead-letters a record, then waits for its own letter.
        DeliveryTracker batchA = new(), batchB = new();
        platform.DeadLetters.Publish(batchA, records[0], "loop-a", ErrorClasses.UnknownEncoding, "a");
        platform.DeadLetters.Publish(batchB, records[1], "loop-b", ErrorClasses.UnknownEncoding, "b");
        var loopA = Task.Run(() => batchA.WaitAsync(CancellationToken.None));
        await Task.Delay(300);
        var loopB = Task.Run(() => batchB.WaitAsync(CancellationToken.None));

        // Loop B's letter is not delivered (the cluster is down): its wait must neither return early nor succeed.
        var finished = await Task.WhenAny(loopB, Task.Delay(1_500));
        Assert.NotSame(loopB, finished);
        Assert.Equal(1, (await Assert.ThrowsAsync<DeliveryFailedException>(() => loopB.WaitAsync(FailWithin))).FailedCount);
        Assert.Equal(1, (await Assert.ThrowsAsync<DeliveryFailedException>(() => loopA.WaitAsync(FailWithin))).FailedCount);

        // Once the cluster is back, a batch's letters are delivered and its wait succeeds.
        platform.Broker.SetAllBrokers(up: true);
        var retry = new DeliveryTracker();
        platform.DeadLetters.Publish(retry, records[1], "loop-b", ErrorClasses.UnknownEncoding, "b");
        await retry.WaitAsync(CancellationToken.None).WaitAsync(FailWithin);
        Assert.Equal((1, 0), (retry.Total, retry.Failed));
    }
}
