using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ReaSeq.Ingestors.Replay;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Host;

/// <summary>`reaseq replay SOURCE`: publishes a data set to a running cluster (e.g. one started with `reaseq broker`).</summary>
public static class ReplayCommand
{
    public static Command Create()
    {
        var source = new Argument<ReplayKind>("source")
        {
            Description = "Data set: online-retail, synthetic or csv",
            HelpName = "online-retail|synthetic|csv",
            CustomParser = r =>
            {
                var kind = CliParsers.Enum<ReplayKind>(r, "replay SOURCE") ?? ReplayKind.Synthetic;
                if (kind is ReplayKind.None or ReplayKind.Auto) r.AddError($"replay SOURCE must be online-retail, synthetic or csv; got '{r.Tokens[0].Value}'");
                return kind;
            },
        };
        var options = new ReplayOptionSet();
        var command = new Command("replay", "Publish a data set to a running cluster (Kafka:BootstrapServers, e.g. one started by `reaseq broker`) and print what was published")
        {
            source,
        };
        options.AddTo(command);
        command.SetAction((r, ct) => ExecuteAsync(options.Bind(r, r.GetValue(source)), ct));
        return command;
    }

    public static async Task<int> ExecuteAsync(ReplaySettings settings, CancellationToken ct)
    {
        var source = ReplaySources.Create(settings)!;
        var builder = Cli.CreateBuilder();
        var kafkaOptions = new KafkaOptions();
        builder.Configuration.GetSection(KafkaOptions.Section).Bind(kafkaOptions);
        if (string.IsNullOrWhiteSpace(kafkaOptions.BootstrapServers))
            throw new UserException("replay publishes to a running cluster: start `reaseq broker` and set REASEQ__Kafka__BootstrapServers, or use `reaseq run --replay ...` to replay into an embedded one");
        using var kafka = new KafkaClientSupplier(Options.Create(kafkaOptions), NullLogger<KafkaClientSupplier>.Instance);
        using var producer = new ContractProducer(kafka, "reaseq-replay");
        var publisher = new ReplayPublisher(producer);
        var publishing = publisher.PublishAsync(source, settings.Speed, ct);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!publishing.IsCompleted)
        {
            await Task.WhenAny(publishing, Task.Delay(1_000, ct));
            ct.ThrowIfCancellationRequested();
            Console.Error.WriteLine($"[{clock.Elapsed:mm\\:ss}] {source.Name}: published {publisher.Total:N0} (items {publisher.Items:N0}, clicks {publisher.Clicks:N0}, impressions {publisher.Impressions:N0})");
        }
        await publishing;
        Console.WriteLine($"replay {source.Name}: published {publisher.Total:N0} records in {clock.Elapsed.TotalSeconds:F1} s; failed deliveries {producer.Failed:N0}");
        Console.WriteLine(source.Stats.ToString());
        return producer.Failed == 0 ? 0 : 1;
    }
}
