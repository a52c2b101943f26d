using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Sequence.Streaming;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.SequenceStreaming;

namespace ReaSeq.Tests.Streaming;

/// <summary>
/// Issue 8 C11: infrastructure failures outside a batch (PostgreSQL reads when partitions are assigned, checkpoints
/// when idle) never fault the worker: the loop retries them with backoff, the role reports itself unhealthy meanwhile,
/// and it recovers with no operator action. The state store fails for real: its table is renamed away, then back.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class OutsideBatchFailureTests(PostgresFixture postgres)
{
    [Fact]
    public async Task State_store_failures_on_assignment_and_when_idle_mark_the_role_unhealthy_and_it_recovers_without_stopping()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        for (var i = 0; i < 50; i++) platform.Producer.Produce(Topics.Clicks, SequenceStateTests.Click(i).UserId, SequenceStateTests.Click(i));
        platform.Producer.Flush();
        using var processor = platform.NewSequenceProcessor(options: new SequenceProcessorOptions { CheckpointIntervalMs = 0, CatalogWaitMs = 0 });

        await platform.ScalarAsync("alter table sequence_checkpoints rename to sequence_checkpoints_away");
        using var cts = new CancellationTokenSource();
        var loop = Task.Factory.StartNew(
            () => new BatchConsumerLoop(platform.Kafka, platform.KafkaOptions, NullLogger.Instance, platform.Health).RunAsync(processor, "c11", cts.Token),
            cts.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        try
        {
            // Assignment cannot load the partitions' state: the role says so and keeps trying.
            await TestPlatform.WaitUntilAsync(() => Task.FromResult(!platform.Health.IsHealthy || loop.IsCompleted), TimeSpan.FromSeconds(30), "the role reports itself unhealthy");
            await Task.Delay(1_000);
            Assert.False(loop.IsCompleted, loop.Exception?.GetBaseException().Message);
            Assert.Equal("sequence", Assert.Single(platform.Health.Stalled).Handler);
            Assert.Equal(0, processor.Consumed);

            await platform.ScalarAsync("alter table sequence_checkpoints_away rename to sequence_checkpoints");
            await TestPlatform.WaitUntilAsync(() => Task.FromResult(processor.Consumed == 50 && platform.Health.IsHealthy), TimeSpan.FromSeconds(40), "all clicks processed, healthy again");

            // Checkpoints fail while the loop is idle: unhealthy again, still running, and caught up once the store is back.
            await platform.ScalarAsync("alter table sequence_checkpoints rename to sequence_checkpoints_away");
            for (var i = 50; i < 60; i++) platform.Producer.Produce(Topics.Clicks, SequenceStateTests.Click(i).UserId, SequenceStateTests.Click(i));
            platform.Producer.Flush();
            await TestPlatform.WaitUntilAsync(() => Task.FromResult(!platform.Health.IsHealthy || loop.IsCompleted), TimeSpan.FromSeconds(30), "unhealthy while checkpoints fail");
            Assert.False(loop.IsCompleted, loop.Exception?.GetBaseException().Message);
            await platform.ScalarAsync("alter table sequence_checkpoints_away rename to sequence_checkpoints");
            await TestPlatform.WaitUntilAsync(async () => platform.Health.IsHealthy &&
                await platform.ScalarAsync("select coalesce(sum(next_offset), 0) from sequence_checkpoints") == 60, TimeSpan.FromSeconds(40), "checkpointed and healthy again");
            Assert.False(loop.IsCompleted);
        }
        finally
        {
            cts.Cancel();
            try { await loop.WaitAsync(TimeSpan.FromSeconds(20)); } catch (OperationCanceledException) { }
        }
    }
}
