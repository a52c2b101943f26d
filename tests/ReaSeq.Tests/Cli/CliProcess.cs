using System.Diagnostics;
using System.Runtime.InteropServices;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Cli;

/// <summary>Runs the built executables (`reaseq`, `reaseq-tools`) as real processes.</summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string[] ErrorLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The executable beside the tests (copied there by the project reference), else in its project's output.</summary>
    public static string PathOf(string name)
    {
        var beside = Path.Combine(AppContext.BaseDirectory, name);
        if (File.Exists(beside)) return beside;
        var project = name == "reaseq" ? "Host" : "Tools";
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        return Path.Combine(RepoPaths.Root, "src", project, "bin", configuration, "net10.0", "linux-x64", name);
    }

    public static ProcessStartInfo StartInfo(string name, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        // A test run started in the background (nohup, `&` in a script) ignores SIGINT, as POSIX has background jobs do, and
        // a child inherits that: .NET then installs no SIGINT handler and a Ctrl-C test would only see the environment. The
        // child gets SIGINT's default back through coreutils' env, which execs it in place (the same pid).
        var start = SignalIgnored(SIGINT)
            ? new ProcessStartInfo("env", ["--default-signal=INT", PathOf(name), .. args])
            : new ProcessStartInfo(PathOf(name), args);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = Path.GetTempPath();
        // A clean configuration: nothing from the test runner's environment leaks into the child.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("REASEQ__", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        return start;
    }

    /// <summary>Whether this process ignores <paramref name="signal"/> (the SigIgn mask of /proc/self/status).</summary>
    public static bool SignalIgnored(int signal)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (signal - 1))) != 0;
    }

    public static async Task<Result> RunAsync(string name, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null,
                                              int timeoutSeconds = 60)
    {
        using var process = Process.Start(StartInfo(name, args, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name} {string.Join(' ', args)} did not exit within {timeoutSeconds} s");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    public const int SIGINT = 2;
    public const int SIGTERM = 15;

    /// <summary>Sends a POSIX signal (Process.Kill only sends SIGKILL).</summary>
    public static void Signal(Process process, int signal)
    {
        if (Kill(process.Id, signal) != 0) throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
