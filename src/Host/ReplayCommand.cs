using ReaSeq.Ingestors.Replay;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Host;

/// <summary>`reaseq replay SOURCE`: publishes a data set to a running cluster (e.g. one started with `reaseq broker`).</summary>
public static class ReplayCommand
{
    public static async Task<int> ExecuteAsync(CliArgs args, CancellationToken ct)
    {
        if (args.Positional.Count == 0) return Cli.Fail($"replay needs a source:\n{ReplaySetup.ReplayOptionsHelp}");
        var source = ReplaySetup.Resolve(args, args.Positional[0])!;
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        var config = Cli.Configure(builder);
        var kafkaOptions = new KafkaOptions();
        config.GetSection(KafkaOptions.Section).Bind(kafkaOptions);
        if (string.IsNullOrWhiteSpace(kafkaOptions.BootstrapServers))
            return Cli.Fail("replay publishes to a running cluster: start `reaseq broker` and set REASEQ__Kafka__BootstrapServers, or use `reaseq run --replay ...` to replay into an embedded one");
        using var kafka = new KafkaClientSupplier(Options.Create(kafkaOptions), NullLogger<KafkaClientSupplier>.Instance);
        using var producer = new ContractProducer(kafka, "reaseq-replay");
        var publisher = new ReplayPublisher(producer);
        var publishing = publisher.PublishAsync(source, ReplaySetup.ParseSpeed(args.Get("speed")), ct);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!publishing.IsCompleted)
        {
            await Task.WhenAny(publishing, Task.Delay(1_000, ct));
            Console.Error.WriteLine($"[{clock.Elapsed:mm\\:ss}] {source.Name}: published {publisher.Total:N0} (items {publisher.Items:N0}, clicks {publisher.Clicks:N0}, impressions {publisher.Impressions:N0})");
        }
        await publishing;
        Console.WriteLine($"replay {source.Name}: published {publisher.Total:N0} records in {clock.Elapsed.TotalSeconds:F1} s; failed deliveries {producer.Failed:N0}");
        Console.WriteLine(source.Stats.ToString());
        return producer.Failed == 0 ? 0 : 1;
    }
}
