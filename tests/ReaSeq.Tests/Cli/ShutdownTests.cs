using System.Diagnostics;
using System.Text;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Cli;

/// <summary>
/// Issue 8 C10: a real `reaseq run` process stops within 10 s of SIGTERM or SIGINT and exits 0 — with the embedded
/// broker up, and while a configured broker is unreachable.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class ShutdownTests(PostgresFixture postgres)
{
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(CliProcess.SIGTERM, false)]
    [InlineData(CliProcess.SIGINT, false)]
    [InlineData(CliProcess.SIGTERM, true)]
    [InlineData(CliProcess.SIGINT, true)]
    public async Task Run_stops_within_10_s_of_a_signal_and_exits_0(int signal, bool unreachableBroker)
    {
        var environment = new Dictionary<string, string> { ["REASEQ__Postgres__ConnectionString"] = await postgres.CreateDatabaseAsync() };
        if (unreachableBroker) environment["REASEQ__Kafka__BootstrapServers"] = "127.0.0.1:1";
        using var process = Process.Start(CliProcess.StartInfo("reaseq", ["run", "--roles", "ingest,sequence", "--replay", "none"], environment))!;
        var output = new StringBuilder();
        var running = new TaskCompletionSource();
        // Embedded: running once the roles are up. Unreachable: once it is starting (it cannot get further).
        var ready = unreachableBroker ? "reaseq: starting roles" : "running against Kafka";
        void Collect(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (e.Data.Contains(ready, StringComparison.Ordinal)) running.TrySetResult();
        }
        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await running.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await Task.Delay(unreachableBroker ? 2_000 : 1_000); // consumers polling / the metadata request under way
            Assert.False(process.HasExited, $"exited before the signal: {output}");

            var clock = Stopwatch.StartNew();
            CliProcess.Signal(process, signal);
            await Task.WhenAny(process.WaitForExitAsync(), Task.Delay(StopLimit));
            var exited = process.HasExited;
            clock.Stop();
            Assert.True(exited, $"still running {StopLimit.TotalSeconds} s after signal {signal}: {output}");
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode} after signal {signal}: {output}");
            Assert.DoesNotContain("   at ", output.ToString());
            Console.WriteLine($"signal {signal}, unreachable broker {unreachableBroker}: stopped in {clock.Elapsed.TotalSeconds:F2} s");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
