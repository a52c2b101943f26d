using System.Diagnostics;
using System.Net.Sockets;
using ReaSeq.Tests.Cli;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Operations;

/// <summary>Credentials never reach the log or the probes.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class SecretsTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Credentials_from_the_environment_never_appear_in_the_log_or_the_probes()
    {
        const string kafkaSecret = "kafka-S3cret-7f1c9d";
        const string pgSecret = "pg-S3cret-2b8e44";
        var connectionString = new Npgsql.NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync()) { Password = pgSecret }.ConnectionString;
        var port = FreePort();
        // SASL against the embedded broker (which speaks none): the clients fail to authenticate and log why, at trace level.
        var start = CliProcess.StartInfo("reaseq", ["run", "--roles", "ingest,sequence", "--log-level", "trace", "--log-format", "json"],
            new Dictionary<string, string>
            {
                ["REASEQ__Postgres__ConnectionString"] = connectionString,
                ["REASEQ__Kafka__SecurityProtocol"] = "SaslPlaintext",
                ["REASEQ__Kafka__SaslMechanism"] = "ScramSha256",
                ["REASEQ__Kafka__SaslUsername"] = "svc-reaseq",
                ["REASEQ__Kafka__SaslPassword"] = kafkaSecret,
                ["REASEQ__Kafka__Client__debug"] = "security,broker",
                ["REASEQ__Management__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        string probes = "";
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline && !probes.Contains("kafka:", StringComparison.Ordinal))
            {
                try { probes = await (await http.GetAsync($"http://127.0.0.1:{port}/readyz")).Content.ReadAsStringAsync(); }
                catch (HttpRequestException e) { probes = e.Message; }
                await Task.Delay(500);
            }
            await Task.Delay(3_000); // a few rounds of failed authentication
            probes += await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        }
        finally
        {
            CliProcess.Signal(process, CliProcess.SIGTERM);
            if (!process.WaitForExit(20_000)) process.Kill(entireProcessTree: true);
        }
        var log = await stdout + await stderr;
        Assert.Contains("SASL", log, StringComparison.OrdinalIgnoreCase); // the settings did reach librdkafka
        Assert.Contains("kafka:", probes);
        foreach (var secret in new[] { kafkaSecret, pgSecret })
        {
            Assert.DoesNotContain(secret, log);
            Assert.DoesNotContain(secret, probes);
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(System.Net.IPAddress.Loopback, 0);
        socket.Start();
        return ((System.Net.IPEndPoint)socket.LocalEndpoint).Port;
    }
}
