using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Streaming;

/// <summary>
/// A batch that keeps failing for infrastructure reasons is retried without end (no record is skipped), and past the
/// retry budget the role says so: <see cref="IRoleHealth"/> reports the job stalled until a batch succeeds again.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class RetryBudgetTests(PostgresFixture postgres)
{
    /// <summary>Stands in for a handler whose state store is down until <see cref="Failing"/> is cleared.</summary>
    private sealed class OutageHandler : IBatchHandler
    {
        public volatile bool Failing = true;
        public int Attempts;
        public readonly List<long> Handled = [];

        public string Name => "outage";

        public IReadOnlyList<string> Topics { get; } = [ReaSeq.Contracts.Topics.Clicks];

        public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions) => new Dictionary<TopicPartition, long>();

        public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions) { }

        public Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Attempts);
            if (Failing) throw new InvalidOperationException("state store unreachable");
            lock (Handled) Handled.AddRange(batch.Select(r => r.Offset.Value));
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_batch_failing_past_its_retry_budget_marks_the_role_unhealthy_until_it_succeeds_and_nothing_is_skipped()
    {
        await using var platform = await TestPlatform.StartAsync(postgres, partitions: 1, configure: o => o.BatchRetryBudget = 3);
        for (var i = 0; i < 5; i++)
            platform.Producer.Produce(Topics.Clicks, "u", new ClickEvent { EventId = $"e{i}", UserId = "u", ItemId = "i", TsMs = 1_600_000_000_000 + i, Action = ClickAction.CLICK });
        platform.Producer.Flush();

        var handler = new OutageHandler();
        platform.Run(handler, "outage");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(!platform.Health.IsHealthy), TimeSpan.FromSeconds(20), "the role reports itself unhealthy");
        var stalled = Assert.Single(platform.Health.Stalled);
        Assert.Equal("outage", stalled.Handler);
        Assert.True(stalled.Attempts >= 3, $"{stalled.Attempts} attempts");
        Assert.Equal("state store unreachable", stalled.LastError);
        Assert.Empty(handler.Handled);

        handler.Failing = false;
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(platform.Health.IsHealthy && handler.Handled.Count == 5), TimeSpan.FromSeconds(20),
            "the batch succeeds and the role is healthy again");
        Assert.Equal([0L, 1, 2, 3, 4], handler.Handled);
        Assert.True(handler.Attempts >= 4);
    }
}
