using System.Diagnostics;
using ReaSeq.Tests.Cli;

namespace ReaSeq.Tests.Chaos;

/// <summary>
/// One real `reaseq run --roles …` process against the test's embedded broker and PostgreSQL, configured through
/// REASEQ__ environment variables; its output goes to a log file in the temp folder (named in every failure message).
/// </summary>
public sealed class RoleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Queue<string> _tail = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private RoleProcess(string roles, IReadOnlyDictionary<string, string> environment, string tag, string workingDirectory)
    {
        var start = CliProcess.StartInfo("reaseq", ["run", "--roles", roles, "--replay", "none"], environment);
        start.WorkingDirectory = workingDirectory;
        _process = Process.Start(start)!;
        LogPath = Path.Combine(Path.GetTempPath(), $"reaseq-chaos-{tag}-{_process.Id}.log");
        _log = new StreamWriter(LogPath) { AutoFlush = true };
        _process.OutputDataReceived += Collect;
        _process.ErrorDataReceived += Collect;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts the roles; <paramref name="workingDirectory"/> holds what they keep on disk (the embedded vector index).</summary>
    public static RoleProcess Start(string roles, IReadOnlyDictionary<string, string> environment, string tag, string workingDirectory) =>
        new(roles, environment, tag, workingDirectory);

    public string LogPath { get; }

    public bool HasExited => _process.HasExited;

    public TimeSpan Age => _clock.Elapsed;

    /// <summary>Completes once the roles are subscribed (the host's "running against Kafka" line).</summary>
    public Task Ready => _ready.Task;

    public string Tail
    {
        get { lock (_tail) return $"(log {LogPath})\n" + string.Join('\n', _tail); }
    }

    private void Collect(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is null) return;
        lock (_tail)
        {
            _log.WriteLine(e.Data);
            _tail.Enqueue(e.Data);
            if (_tail.Count > 40) _tail.Dequeue();
        }
        if (e.Data.Contains("running against Kafka", StringComparison.Ordinal)) _ready.TrySetResult();
    }

    /// <summary>SIGKILL: no revoke, no close, no flush, no checkpoint.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM; returns how long the process took to exit and its exit code (null when it outlived <paramref name="limit"/>).</summary>
    public async Task<(double Seconds, int? ExitCode)> TerminateAsync(TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        CliProcess.Signal(_process, CliProcess.SIGTERM);
        await Task.WhenAny(_process.WaitForExitAsync(), Task.Delay(limit));
        clock.Stop();
        if (!_process.HasExited) return (clock.Elapsed.TotalSeconds, null);
        await _process.WaitForExitAsync(); // the output streams drained
        return (clock.Elapsed.TotalSeconds, _process.ExitCode);
    }

    /// <summary>Fails the test with the process's log when it exited on its own (a role must never give up).</summary>
    public void AssertRunning(string when)
    {
        if (_process.HasExited) throw new Xunit.Sdk.XunitException($"the role process exited ({_process.ExitCode}) {when}: {Tail}");
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        lock (_tail) _log.Dispose();
    }
}
