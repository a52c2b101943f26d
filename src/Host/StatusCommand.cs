using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using ReaSeq.Host.Operations;
using ReaSeq.Ingestors.Streaming;
using Spectre.Console;

namespace ReaSeq.Host;

/// <summary>
/// `reaseq status`: the operator's one screen. Per role and consumer group: members, partitions, lag (the members' own
/// per-partition lag, and the broker's view when a cluster is named), throughput, dead letters by class, model
/// versions and stalled jobs, read from the roles' /metrics endpoints.
/// </summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var endpoints = new Option<string[]>("--endpoint")
        {
            Description = "A role's management endpoint (repeat for each process), e.g. http://10.0.0.5:9464; default Status:Endpoints " +
                          "(comma-separated) or http://127.0.0.1:9464",
            HelpName = "URL",
            AllowMultipleArgumentsPerToken = true,
        };
        var interval = CliParsers.Double("--interval", "Seconds between the two scrapes throughput is measured over (0: one scrape, no throughput)", 2, 0, 300);
        var bootstrap = new Option<string?>("--bootstrap")
        {
            Description = "Kafka bootstrap servers for the broker's view of the groups' lag (default Kafka:BootstrapServers; none: the members' own lag only)",
            HelpName = "HOST:PORT,...",
        };
        var command = new Command("status", "Per role and consumer group: lag, throughput, dead letters and model versions, from the roles' /metrics") { endpoints, interval, bootstrap };
        command.SetAction((r, ct) => ExecuteAsync(r.GetValue(endpoints) ?? [], r.GetValue(interval), r.GetValue(bootstrap), ct));
        return command;
    }

    public static async Task<int> ExecuteAsync(IReadOnlyList<string> endpointArgs, double intervalSeconds, string? bootstrap, CancellationToken ct)
    {
        var config = Cli.CreateBuilder().Configuration;
        var kafka = config.GetSection(KafkaOptions.Section).Get<KafkaOptions>() ?? new KafkaOptions();
        if (bootstrap is not null) kafka.BootstrapServers = bootstrap;
        var configured = (config["Status:Endpoints"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var raw = endpointArgs.Count > 0 ? endpointArgs : configured.Length > 0 ? configured : ["http://127.0.0.1:9464"];
        var endpoints = raw.Select(e => Uri.TryCreate(e, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"
            ? u : throw new UserException($"--endpoint '{e}' is not an http(s) URL")).ToList();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var rows = await new StatusCollector(http, kafka).CollectAsync(endpoints, TimeSpan.FromSeconds(intervalSeconds), ct);
        Render(AnsiConsole.Console, rows, endpoints.Count, kafka.BootstrapServers);
        return 0;
    }

    public static void Render(IAnsiConsole console, IReadOnlyList<GroupStatus> rows, int endpoints, string? bootstrap)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"ReaSeq status: {endpoints} endpoint(s)");
        foreach (var column in new[] { "role", "consumer group", "members", "partitions", "lag", "lag (broker)", "records/s", "records in", "dead letters", "models", "health" })
            table.AddColumn(new TableColumn(column));
        foreach (var role in rows.GroupBy(r => r.Role))
        {
            foreach (var r in role)
            {
                table.AddRow(
                    Markup.Escape(r.Role), Markup.Escape(r.Group), r.Instances.ToString(CultureInfo.InvariantCulture), r.Partitions.ToString(CultureInfo.InvariantCulture),
                    r.Lag?.ToString("N0", CultureInfo.InvariantCulture) ?? "–", r.BrokerLag?.ToString("N0", CultureInfo.InvariantCulture) ?? "–",
                    r.RecordsPerSecond?.ToString("N1", CultureInfo.InvariantCulture) ?? "–", r.RecordsIn.ToString("N0", CultureInfo.InvariantCulture),
                    Markup.Escape(r.DeadLetters == 0 ? "0" : $"{r.DeadLetters:N0} ({r.DeadLetterClasses})"),
                    Markup.Escape(r.Models.Length == 0 ? "–" : r.Models), r.Stalled ? "[red]STALLED[/]" : "[green]ok[/]");
            }
        }
        console.Write(table);
        if (rows.Count == 0) console.MarkupLine("[yellow]No consumer group reported by these endpoints.[/]");
        if (string.IsNullOrWhiteSpace(bootstrap)) console.MarkupLine("[grey]lag (broker): no cluster named (--bootstrap or Kafka:BootstrapServers)[/]");
    }
}
