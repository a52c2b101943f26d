using System.Diagnostics;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Ingest;

/// <summary>An independent Kafka client (kcat, Debian's package) talks to the platform over the wire.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class KcatInteropTests(PostgresFixture postgres)
{
    private static async Task<(int Code, string Out, string Err)> KcatAsync(params string[] args)
    {
        var start = new ProcessStartInfo("kcat", args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("kcat did not start (apt-get install kcat)");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000)) { process.Kill(); throw new TimeoutException("kcat hung"); }
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Kcat_produces_a_click_the_platform_ingests_and_consumes_the_dead_letter_the_platform_produced()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        var bootstrap = platform.Broker.BootstrapServers;
        var dir = Directory.CreateTempSubdirectory("kcat");
        var clickFile = Path.Combine(dir.FullName, "click.avro");
        await File.WriteAllBytesAsync(clickFile, new AvroSerde<ClickEvent>().Serialize(
            new ClickEvent { EventId = "kcat-1", UserId = "17850", ItemId = "85123A", TsMs = 1_291_191_960_000, Action = ClickAction.BUY }));
        var garbageFile = Path.Combine(dir.FullName, "garbage.bin");
        await File.WriteAllTextAsync(garbageFile, "this is not avro");

        // -P with a file argument sends the whole file as one message.
        var produced = await KcatAsync("-b", bootstrap, "-t", Topics.Clicks, "-k", "17850", "-P", clickFile);
        Assert.True(produced.Code == 0, produced.Err);
        produced = await KcatAsync("-b", bootstrap, "-t", Topics.Clicks, "-k", "17850", "-P", garbageFile);
        Assert.True(produced.Code == 0, produced.Err);

        platform.Run(platform.NewClickIngestor(), "kcat");
        await TestPlatform.WaitUntilAsync(async () => await platform.ScalarAsync("select count(*) from user_clicks where event_id = 'kcat-1' and user_id = '17850'") == 1,
            TimeSpan.FromSeconds(60), "the kcat click is stored");

        // kcat reads the dead letter the platform produced for the garbage record: key and embedded raw bytes intact.
        var consumed = await KcatAsync("-b", bootstrap, "-t", Topics.DeadLetters, "-C", "-o", "beginning", "-c", "1", "-e", "-f", "%k|%S\n");
        Assert.True(consumed.Code == 0, consumed.Err);
        var line = consumed.Out.Trim();
        Assert.StartsWith("17850|", line);
        var dumped = await KcatAsync("-b", bootstrap, "-t", Topics.DeadLetters, "-C", "-o", "beginning", "-c", "1", "-e", "-f", "%s");
        Assert.Contains("this is not avro", dumped.Out);
        Assert.Contains(ErrorClasses.UnknownEncoding, dumped.Out);
    }
}
