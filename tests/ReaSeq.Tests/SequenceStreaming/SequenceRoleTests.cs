using System.Diagnostics;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Replay;
using ReaSeq.Ingestors.Replay.OnlineRetail;
using ReaSeq.Processors.Sequence;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Replay;

namespace ReaSeq.Tests.SequenceStreaming;

[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class SequenceRoleTests(PostgresFixture postgres)
{
    [OnlineRetailFact]
    public async Task The_online_retail_sample_yields_gap_records_and_a_second_replay_adds_nothing()
    {
        var csv = Path.Combine(OnlineRetailData.FindDirectory()!, OnlineRetailData.SampleFileName);
        await using var platform = await TestPlatform.StartAsync(postgres);
        var (publisher, sequence) = await RunOnlineRetailSampleAsync(platform);

        var records = platform.ReadAll(Topics.SequenceGaps, (int)sequence.Published, TimeSpan.FromSeconds(30));
        Assert.Equal(sequence.Published, records.Count);
        var updates = records.Select(r => new AvroSerde<SequenceUpdate>().Deserialize(r.Message.Value)).ToList();
        Assert.All(updates, u => Assert.Equal("TemporalOrCategory", u.Variant));
        Assert.Contains(updates, u => u.Gaps.Any(g => g.Reasons.Contains(GapReason.CD)));
        // Each user's versions count up by one per accepted click; the newest window ends with the user's last click.
        // One update per user and batch, versions strictly increasing; the last one counts all of the user's clicks.
        var clicksPerUser = (await platform.Db.CreateCommand("select 1").ExecuteScalarAsync(), updates.GroupBy(u => u.UserId)).Item2;
        foreach (var user in clicksPerUser)
        {
            var versions = user.Select(u => u.SequenceVersion).ToList();
            Assert.Equal(versions.Order().Distinct(), versions);
            Assert.Equal(user.Last().Window.Count, Math.Min(versions[^1], new SequenceDetectorOptions().WindowSize));
        }
        Assert.Equal(publisher.Clicks, updates.GroupBy(u => u.UserId).Sum(g => g.Max(u => u.SequenceVersion)));
        var stats = sequence.Statistics();
        var merged = Host.SequenceCommand.Merge(stats)!;
        Assert.Equal(publisher.Clicks, merged.EventsAccepted);
        Assert.True(merged.For(DetectionVariant.TemporalOrCategory).FillRatio > 0);
        Assert.True(merged.For(DetectionVariant.TemporalOrCategory).FillRatio >= merged.For(DetectionVariant.Category).FillRatio);

        // The same input again: every click is a duplicate, nothing changes, nothing is published.
        await new ReplayPublisher(platform.Producer).PublishAsync(new OnlineRetailSource(csv, new OnlineRetailOptions { NegativesPerPurchase = 0 }), 0, CancellationToken.None);
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(sequence.Consumed == 2 * publisher.Clicks), TimeSpan.FromSeconds(60), "second replay processed");
        Assert.Equal(records.Count, sequence.Published);
        Assert.Equal(records.Count, platform.ReadAll(Topics.SequenceGaps, records.Count, TimeSpan.FromSeconds(10)).Count);
    }

    /// <summary>
    /// Publishes the Online Retail sample, ingests its items (categories come from the catalog: ingested first so every
    /// run sees the same ones) and runs the sequence role (TD or CD) until every click is processed.
    /// </summary>
    internal static async Task<(ReplayPublisher Publisher, ReaSeq.Processors.Sequence.Streaming.SequenceProcessor Sequence)> RunOnlineRetailSampleAsync(TestPlatform platform)
    {
        var csv = Path.Combine(OnlineRetailData.FindDirectory()!, OnlineRetailData.SampleFileName);
        var publisher = new ReplayPublisher(platform.Producer);
        await publisher.PublishAsync(new OnlineRetailSource(csv, new OnlineRetailOptions { NegativesPerPurchase = 0 }), 0, CancellationToken.None);
        platform.Run(platform.NewItemIngestor(), "items");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(platform.Stats.For(Topics.ItemUpdates).Consumed == publisher.Items), TimeSpan.FromSeconds(60), "items ingested");
        var sequence = platform.NewSequenceProcessor(new SequenceDetectorOptions { Variant = DetectionVariant.TemporalOrCategory });
        platform.Run(sequence, "sequence");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(sequence.Consumed == publisher.Clicks), TimeSpan.FromSeconds(90), "clicks processed");
        return (publisher, sequence);
    }

    private static Process StartSequence(string bootstrap, string connectionString, string group, string outputTopic)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "reaseq"), ["run", "--roles", "sequence"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["REASEQ__Kafka__BootstrapServers"] = bootstrap;
        start.Environment["REASEQ__Postgres__ConnectionString"] = connectionString;
        start.Environment["REASEQ__Kafka__GroupPrefix"] = group;
        start.Environment["REASEQ__Kafka__MaxBatchSize"] = "300";
        start.Environment["REASEQ__Sequence__Processor__OutputTopic"] = outputTopic;
        start.Environment["REASEQ__Sequence__Processor__CheckpointIntervalMs"] = "1000";
        var process = Process.Start(start)!;
        var log = new StreamWriter(Path.Combine(Path.GetTempPath(), $"reaseq-sequence-{group}-{process.Id}.log")) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    [Fact]
    public async Task A_sequence_process_killed_mid_stream_and_restarted_publishes_exactly_what_an_uninterrupted_run_publishes()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        platform.Broker.CreateTopic("gaps.crash", 6);
        platform.Broker.CreateTopic("gaps.reference", 6);
        const int users = 100, events = 8_000;
        var random = new Random(11);
        string[] categories = ["toys", "garden", "kitchen", "lights"];
        var ts = new long[users];
        void Produce(int from, int to)
        {
            for (var i = from; i < to; i++)
            {
                var u = random.Next(users);
                ts[u] += random.Next(10) < 8 ? random.Next(10_000, 120_000) : random.Next(3_600_000, 20_000_000);
                var item = random.Next(400);
                platform.Producer.Produce(Topics.Clicks, $"u{u}", new ClickEvent
                {
                    EventId = $"e{i}",
                    UserId = $"u{u}",
                    ItemId = $"i{item}",
                    TsMs = 1_600_000_000_000 + ts[u],
                    Action = ClickAction.CLICK,
                    Context = new() { ["category"] = categories[item % categories.Length] },
                });
            }
            platform.Producer.Flush();
        }

        var crashDb = platform.ConnectionString;
        var referenceDb = await postgres.CreateDatabaseAsync();
        Produce(0, events / 2);
        var victim = StartSequence(platform.Broker.BootstrapServers, crashDb, "crash", "gaps.crash");
        await TestPlatform.WaitUntilAsync(async () => await platform.ScalarAsync("select count(*) from sequence_checkpoints") >= 4, TimeSpan.FromSeconds(90), "some checkpoints written");
        Produce(events / 2, events);   // more input while the victim runs…
        await Task.Delay(300);
        victim.Kill(entireProcessTree: true);   // …and SIGKILL somewhere in it
        await victim.WaitForExitAsync();

        var restarted = StartSequence(platform.Broker.BootstrapServers, crashDb, "crash", "gaps.crash");
        Process? reference = null;
        try
        {
            List<Confluent.Kafka.ConsumeResult<byte[]?, byte[]?>> crashed = [], clean = [];
            await TestPlatform.WaitUntilAsync(() =>
            {
                crashed = platform.ReadToEnd("gaps.crash");
                return Task.FromResult(Final(crashed) == events);
            }, TimeSpan.FromSeconds(150), "the restarted run processed every click");

            // T is one per domain and epoch for the deployment, frozen on first use from the partitions' merged sketches
            // and recorded: outputs are a pure function of the input and that record. A deployment with its own database
            // would freeze its own T (how far each partition got when an epoch was first needed is timing), so the
            // uninterrupted reference run is given the crashed run's record.
            var copied = 0;
            await using (var referenceData = Npgsql.NpgsqlDataSource.Create(referenceDb))
            {
                await using var read = platform.Db.CreateCommand("select domain, epoch, threshold_ms, gaps, data_driven from sequence_thresholds where consumer_group = 'crash.sequence'");
                await using var rows = await read.ExecuteReaderAsync();
                while (await rows.ReadAsync())
                {
                    await using var copy = referenceData.CreateCommand("insert into sequence_thresholds (consumer_group, domain, epoch, threshold_ms, gaps, data_driven) values ('reference.sequence', $1, $2, $3, $4, $5)");
                    for (var i = 0; i < 5; i++) copy.Parameters.AddWithValue(rows.GetValue(i));
                    copied += await copy.ExecuteNonQueryAsync();
                }
            }
            Assert.True(copied > 0, "the crashed run recorded no threshold");
            reference = StartSequence(platform.Broker.BootstrapServers, referenceDb, "reference", "gaps.reference");
            await TestPlatform.WaitUntilAsync(() =>
            {
                crashed = platform.ReadToEnd("gaps.crash");
                clean = platform.ReadToEnd("gaps.reference");
                return Task.FromResult(Final(crashed) == events && Final(clean) == events);
            }, TimeSpan.FromSeconds(150), "both runs processed every click");

            // An update is a pure function of (user, version): where both runs published one, the bytes agree; the
            // crashed run may repeat an update after its restart, but never with different content; and every
            // user's newest update is identical.
            var reference_ = ByVersion(clean);
            var afterCrash = ByVersion(crashed);
            Assert.All(afterCrash, kv => Assert.Single(kv.Value.Distinct()));
            Assert.All(reference_, kv => Assert.Single(kv.Value));
            foreach (var (key, payloads) in afterCrash)
                if (reference_.TryGetValue(key, out var expected)) Assert.Equal(expected[0], payloads[0]);
            var newest = (Dictionary<(string, long), List<string>> d) => d.GroupBy(kv => kv.Key.Item1).ToDictionary(g => g.Key, g => g.MaxBy(kv => kv.Key.Item2).Value[0]);
            Assert.Equal(newest(reference_).OrderBy(kv => kv.Key), newest(afterCrash).OrderBy(kv => kv.Key));
        }
        finally
        {
            foreach (var p in new[] { restarted, reference }.OfType<Process>())
            {
                if (!p.HasExited) p.Kill(true);
                await p.WaitForExitAsync();
            }
        }

        static Dictionary<(string User, long Version), List<string>> ByVersion(List<Confluent.Kafka.ConsumeResult<byte[]?, byte[]?>> records) =>
            records.Select(r => (Update: new AvroSerde<SequenceUpdate>().Deserialize(r.Message.Value), Hash: Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(r.Message.Value!))))
                .GroupBy(x => (x.Update.UserId, x.Update.SequenceVersion)).ToDictionary(g => g.Key, g => g.Select(x => x.Hash).ToList());
        static long Final(List<Confluent.Kafka.ConsumeResult<byte[]?, byte[]?>> records) =>
            records.Select(r => new AvroSerde<SequenceUpdate>().Deserialize(r.Message.Value)).GroupBy(u => u.UserId).Sum(g => g.Max(u => u.SequenceVersion));
    }
}
