using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Processors.Sequence.Streaming;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.SequenceStreaming;

/// <summary>
/// Issue 8 B9, D12 and B5 on the sequence role's state, with the embedded broker and a real PostgreSQL: a batch that
/// fails half-way is retried against restored state, idle users leave memory and come back unchanged, checkpoints are
/// incremental, and writers are fenced. The handler is driven the way the consumer loop drives it.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class SequenceStateTests(PostgresFixture postgres)
{
    private static readonly string[] Categories = ["toys", "garden", "kitchen"];

    internal static ClickEvent Click(int i, int users = 12) => new()
    {
        EventId = $"ev-{i}",
        UserId = $"user-{i % users}",
        ItemId = $"item-{i * 7 % 23}",
        TsMs = 1_600_000_000_000 + i * 45_000L,
        Action = ClickAction.CLICK,
        Context = new() { ["category"] = Categories[i * 7 % 23 % Categories.Length] },
    };

    private static List<TopicPartition> Partitions() => Enumerable.Range(0, 6).Select(p => new TopicPartition(Topics.Clicks, p)).ToList();

    /// <summary>Every published update by (user, version): the distinct payloads (a repeat must be byte-identical).</summary>
    internal static Dictionary<(string User, long Version), List<string>> Outputs(TestPlatform platform, string topic) =>
        platform.ReadToEnd(topic)
            .Select(r => (Update: new AvroSerde<SequenceUpdate>().Deserialize(r.Message.Value), Hash: Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(r.Message.Value!))))
            .GroupBy(x => (x.Update.UserId, x.Update.SequenceVersion))
            .ToDictionary(g => g.Key, g => g.Select(x => x.Hash).Distinct().ToList());

    private static void AssertSameOutputs(Dictionary<(string, long), List<string>> expected, Dictionary<(string, long), List<string>> actual)
    {
        Assert.All(actual, kv => Assert.Single(kv.Value));
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, hashes) in expected) Assert.Equal(hashes, actual[key]);
    }

    private static List<ConsumeResult<byte[]?, byte[]?>> Slice(List<ConsumeResult<byte[]?, byte[]?>> records, int from, int to) =>
        records.Where(r => new AvroSerde<ClickEvent>().Deserialize(r.Message.Value) is { } c && int.Parse(c.EventId[3..]) is var n && n >= from && n < to)
            .OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value).ToList();

    [Theory]
    [InlineData(0)]
    [InlineData(600_000)]
    public async Task A_batch_failing_half_way_is_retried_against_restored_state_and_publishes_what_a_clean_run_publishes(int checkpointIntervalMs)
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        platform.Broker.CreateTopic("gaps.faulty", 6);
        platform.Broker.CreateTopic("gaps.clean", 6);
        for (var i = 0; i < 240; i++) platform.Producer.Produce(Topics.Clicks, Click(i).UserId, Click(i));
        platform.Producer.Flush();
        var all = platform.ReadToEnd(Topics.Clicks);
        var batches = new[] { Slice(all, 0, 80), Slice(all, 80, 160), Slice(all, 160, 240) };

        async Task RunAsync(string output, bool fault)
        {
            var processor = platform.NewSequenceProcessor(options: new SequenceProcessorOptions { OutputTopic = output, CheckpointIntervalMs = checkpointIntervalMs, CatalogWaitMs = 0 });
            using var _ = processor;
            processor.OnAssigned(Partitions());
            await processor.HandleBatchAsync(batches[0], CancellationToken.None);
            var failures = 0;
            // The second batch fails after 30 of its clicks were applied: the loop retries the same batch.
            if (fault) processor.FailAfterApplying = n => n == 30 && failures++ == 0;
            if (fault) await Assert.ThrowsAsync<InvalidOperationException>(() => processor.HandleBatchAsync(batches[1], CancellationToken.None));
            await processor.HandleBatchAsync(batches[1], CancellationToken.None);
            await processor.HandleBatchAsync(batches[2], CancellationToken.None);
            processor.OnRevoked(Partitions());
            Assert.Equal(240, processor.Consumed);
        }

        await RunAsync("gaps.clean", fault: false);
        // The same group and database: the second run starts from nothing but the recorded T (as a fresh deployment would).
        await platform.ScalarAsync("delete from sequence_users");
        await platform.ScalarAsync("delete from sequence_checkpoints");
        await RunAsync("gaps.faulty", fault: true);
        var clean = Outputs(platform, "gaps.clean");
        Assert.Equal(240, clean.Keys.GroupBy(k => k.User).Sum(g => g.Max(k => k.Version)));
        AssertSameOutputs(clean, Outputs(platform, "gaps.faulty"));
    }

    [Fact]
    public async Task Idle_users_are_evicted_after_their_checkpoint_reloaded_on_their_next_click_and_checkpoints_carry_only_changed_users()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        platform.Broker.CreateTopic("gaps.kept", 6);
        platform.Broker.CreateTopic("gaps.evicted", 6);
        for (var i = 0; i < 240; i++) platform.Producer.Produce(Topics.Clicks, Click(i).UserId, Click(i));
        platform.Producer.Flush();
        var all = platform.ReadToEnd(Topics.Clicks);
        var batches = Enumerable.Range(0, 4).Select(b => Slice(all, b * 60, (b + 1) * 60)).ToList();

        var kept = platform.NewSequenceProcessor(options: new SequenceProcessorOptions { OutputTopic = "gaps.kept", CheckpointIntervalMs = 0, CatalogWaitMs = 0, UserIdleTtlMs = 0 });
        var evicting = platform.NewSequenceProcessor(options: new SequenceProcessorOptions { OutputTopic = "gaps.evicted", CheckpointIntervalMs = 0, CatalogWaitMs = 0, UserIdleTtlMs = 1 });
        using (kept)
        using (evicting)
        {
            kept.OnAssigned(Partitions());
            foreach (var b in batches) await kept.HandleBatchAsync(b, CancellationToken.None);
            kept.OnRevoked(Partitions());
            await platform.ScalarAsync("delete from sequence_users");
            await platform.ScalarAsync("delete from sequence_checkpoints");

            evicting.OnAssigned(Partitions());
            var usersBefore = 0L;
            foreach (var b in batches)
            {
                await evicting.HandleBatchAsync(b, CancellationToken.None);
                await Task.Delay(1_100);                       // past the TTL and the eviction scan
                await evicting.OnIdleAsync(CancellationToken.None); // the checkpoint lands…
                await Task.Delay(100);
                await evicting.OnIdleAsync(CancellationToken.None); // …and what it covers is evicted
                usersBefore = Math.Max(usersBefore, await platform.ScalarAsync("select count(*) from sequence_users"));
            }
            Assert.Equal(0, evicting.UsersInMemory);
            Assert.True(evicting.UserMoves.Evicted >= 12, $"{evicting.UserMoves}");
            Assert.True(evicting.UserMoves.Reloaded >= 12, $"{evicting.UserMoves}");
            Assert.Equal(12, usersBefore);
            evicting.OnRevoked(Partitions());
        }
        AssertSameOutputs(Outputs(platform, "gaps.kept"), Outputs(platform, "gaps.evicted"));
    }

    [Fact]
    public async Task A_consumer_whose_partitions_were_claimed_by_another_commits_nothing_and_lost_partitions_are_not_checkpointed()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        for (var i = 0; i < 120; i++) platform.Producer.Produce(Topics.Clicks, Click(i).UserId, Click(i));
        platform.Producer.Flush();
        var all = platform.ReadToEnd(Topics.Clicks);
        var (first, second) = (Slice(all, 0, 60), Slice(all, 60, 120));
        var options = new SequenceProcessorOptions { CheckpointIntervalMs = 0, CatalogWaitMs = 0 };
        using var stale = platform.NewSequenceProcessor(options: options);
        using var owner = platform.NewSequenceProcessor(options: options);

        stale.OnAssigned(Partitions());
        await stale.HandleBatchAsync(first, CancellationToken.None);
        await Task.Delay(300);
        await stale.OnIdleAsync(CancellationToken.None);
        // The stale consumer stalls (PostgreSQL outage past max.poll.interval.ms); the group gives its partitions to another.
        owner.OnAssigned(Partitions());
        await owner.HandleBatchAsync(first, CancellationToken.None);
        await Task.Delay(300);
        await owner.OnIdleAsync(CancellationToken.None);
        var ownersState = await platform.ScalarAsync("select sum(hashtext(encode(snapshot, 'base64'))::bigint) from sequence_checkpoints");

        // The stale consumer wakes up and goes on: none of its writes may land.
        await stale.HandleBatchAsync(second, CancellationToken.None);
        await Task.Delay(300);
        await stale.OnIdleAsync(CancellationToken.None);
        stale.OnRevoked(Partitions());
        Assert.Equal(first.Count, await platform.ScalarAsync("select sum(next_offset) from sequence_checkpoints"));
        Assert.Equal(ownersState, await platform.ScalarAsync("select sum(hashtext(encode(snapshot, 'base64'))::bigint) from sequence_checkpoints"));
        Assert.Equal(first.Count, await platform.ScalarAsync("select sum(next_offset) from consumer_offsets where consumer_group like '%.sequence'"));

        // Lost partitions (no revoke: another member may own them already) are dropped, never checkpointed.
        using var loser = platform.NewSequenceProcessor(options: new SequenceProcessorOptions { CheckpointIntervalMs = 600_000, CatalogWaitMs = 0 });
        loser.OnAssigned(Partitions());
        await loser.HandleBatchAsync(second, CancellationToken.None);
        loser.OnLost(Partitions());
        Assert.Equal(first.Count, await platform.ScalarAsync("select sum(next_offset) from sequence_checkpoints"));
    }
}
