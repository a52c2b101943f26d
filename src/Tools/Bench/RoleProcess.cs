using System.Diagnostics;
using System.Text;
using ReaSeq.Host.Operations;

namespace ReaSeq.Tools.Bench;

/// <summary>One `reaseq run --roles ROLE` process of a scale-out run, with its management endpoint.</summary>
public sealed class RoleProcess(Process process, Uri management, StringBuilder log) : IDisposable
{
    public Process Process { get; } = process;
    public Uri Management { get; } = management;

    /// <summary>The process's stderr so far (for failure messages).</summary>
    public string Log
    {
        get { lock (log) return log.ToString(); }
    }

    public TimeSpan CpuTime
    {
        get
        {
            Process.Refresh();
            return Process.HasExited ? TimeSpan.Zero : Process.TotalProcessorTime;
        }
    }

    public async Task<List<MetricSample>> MetricsAsync(HttpClient http, CancellationToken ct) =>
        MetricSample.Parse(await http.GetStringAsync(new Uri(Management, "/metrics"), ct));

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }
}
