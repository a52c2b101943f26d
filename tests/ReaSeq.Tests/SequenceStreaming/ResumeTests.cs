using System.Diagnostics;
using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.SequenceStreaming;

/// <summary>
/// Issue 8 B4, with real processes killed by SIGKILL: the sequence role resumes only from offsets stored with its
/// state, and never lets Kafka's committed offsets run ahead of it, so a crash before the first checkpoint skips nothing.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class ResumeTests(PostgresFixture postgres)
{
    private static Process Start(TestPlatform platform, string group, string output)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "reaseq"), ["run", "--roles", "sequence"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["REASEQ__Kafka__BootstrapServers"] = platform.Broker.BootstrapServers;
        start.Environment["REASEQ__Postgres__ConnectionString"] = platform.ConnectionString;
        start.Environment["REASEQ__Kafka__GroupPrefix"] = group;
        start.Environment["REASEQ__Kafka__MaxBatchWaitMs"] = "5";
        start.Environment["REASEQ__Sequence__Processor__OutputTopic"] = output;
        // No checkpoint during the run: all its state is in memory when it is killed.
        start.Environment["REASEQ__Sequence__Processor__CheckpointIntervalMs"] = "600000";
        start.Environment["REASEQ__Sequence__Processor__CatalogWaitMs"] = "0";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static long Final(TestPlatform platform, string topic) =>
        platform.ReadToEnd(topic).Select(r => new AvroSerde<SequenceUpdate>().Deserialize(r.Message.Value)).GroupBy(u => u.UserId).Sum(g => g.Max(u => u.SequenceVersion));

    private static void Produce(TestPlatform platform, int from, int to)
    {
        for (var i = from; i < to; i++) platform.Producer.Produce(Topics.Clicks, SequenceStateTests.Click(i).UserId, SequenceStateTests.Click(i));
        platform.Producer.Flush();
    }

    [Fact]
    public async Task Killed_before_its_first_checkpoint_the_role_commits_no_kafka_offset_and_its_restart_misses_no_click()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        platform.Broker.CreateTopic("gaps.b4", 6);
        var process = Start(platform, "b4", "gaps.b4");
        try
        {
            // Input arrives in steps more than a second apart, each processed before the next: the consumer loop passes
            // its Kafka commit point (at most once a second, when a batch starts) several times with handled batches.
            for (var chunk = 0; chunk < 5; chunk++)
            {
                Produce(platform, chunk * 60, (chunk + 1) * 60);
                var expected = (chunk + 1) * 60;
                await TestPlatform.WaitUntilAsync(() => Task.FromResult(Final(platform, "gaps.b4") == expected), TimeSpan.FromSeconds(60), $"{expected} clicks processed");
                await Task.Delay(1_200);
            }
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();

            Assert.Equal(0, await platform.ScalarAsync("select count(*) from sequence_checkpoints"));
            using (var probe = platform.Kafka.CreateConsumer("b4.sequence", "probe"))
            {
                var committed = probe.Committed(Enumerable.Range(0, 6).Select(p => new TopicPartition(Topics.Clicks, p)), TimeSpan.FromSeconds(10));
                Assert.All(committed, c => Assert.True(c.Offset.Value <= 0, $"Kafka offset {c.Offset} committed for {c.TopicPartition} with no durable state"));
            }

            process = Start(platform, "b4", "gaps.b4");
            Produce(platform, 300, 360);
            // Every user's newest update counts all of the user's clicks: the restart rebuilt the state from the start.
            await TestPlatform.WaitUntilAsync(() => Task.FromResult(Final(platform, "gaps.b4") == 360), TimeSpan.FromSeconds(60), "the restart covers every click");
        }
        finally
        {
            if (!process.HasExited) process.Kill(true);
            await process.WaitForExitAsync();
        }
    }
}
