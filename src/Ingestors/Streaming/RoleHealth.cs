using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ReaSeq.Ingestors.Streaming.Operations;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>A consumer job that cannot make progress: its batch keeps failing past the retry budget.</summary>
public sealed record StalledHandler(string Handler, int Attempts, DateTimeOffset Since, string LastError);

/// <summary>
/// The process's consumer jobs as the loops report them: joining, loading assigned partitions, serving (with how many
/// partitions), stalled. It is the "consumers" readiness condition: ready once every job has loaded its assignment and
/// none is stalled.
/// </summary>
public sealed class RoleHealth : IRoleHealth, IReadinessContributor
{
    private static readonly Meter Meter = new("ReaSeq.Streaming");
    private readonly ConcurrentDictionary<string, StalledHandler> _stalled = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JobState> _jobs = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;

    private sealed record JobState(bool Loaded, bool Loading, int Partitions);

    public RoleHealth(TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        Meter.CreateObservableGauge("reaseq_role_unhealthy", () => _stalled.Values.Select(s =>
            new Measurement<int>(1, new KeyValuePair<string, object?>("handler", s.Handler))),
            description: "1 for each consumer job whose batch keeps failing past its retry budget");
        Meter.CreateObservableGauge("reaseq_assigned_partitions", () => _jobs.Select(j =>
            new Measurement<int>(j.Value.Partitions, new KeyValuePair<string, object?>("handler", j.Key))),
            "{partition}", "Partitions each consumer job of this process owns");
    }

    public bool IsHealthy => _stalled.IsEmpty;

    public IReadOnlyList<StalledHandler> Stalled => _stalled.Values.OrderBy(s => s.Handler, StringComparer.Ordinal).ToList();

    public void ReportStalled(string handler, int attempts, Exception error) =>
        _stalled.AddOrUpdate(handler,
            h => new StalledHandler(h, attempts, _clock.GetUtcNow(), error.Message),
            (_, s) => s with { Attempts = attempts, LastError = error.Message });

    public void ReportHealthy(string handler) => _stalled.TryRemove(handler, out _);

    public void ReportJoining(string handler) => _jobs[handler] = new JobState(false, false, 0);

    public void ReportLoading(string handler) => _jobs.AddOrUpdate(handler, _ => new JobState(false, true, 0), (_, j) => j with { Loading = true });

    public void ReportAssigned(string handler, int partitions) => _jobs[handler] = new JobState(true, false, partitions);

    public void ReportStopped(string handler) => _jobs.TryRemove(handler, out _);

    string IReadinessContributor.Name => "consumers";

    /// <summary>The jobs that are not ready, with why; empty when all are (or none runs).</summary>
    public IReadOnlyList<string> NotReady()
    {
        var reasons = new List<string>();
        foreach (var (name, job) in _jobs.OrderBy(j => j.Key, StringComparer.Ordinal))
        {
            if (job.Loading) reasons.Add($"{name}: loading assigned partitions");
            else if (!job.Loaded) reasons.Add($"{name}: waiting for its partition assignment");
        }
        reasons.AddRange(Stalled.Select(s => $"{s.Handler}: stalled since {s.Since:O} after {s.Attempts} attempts: {s.LastError}"));
        return reasons;
    }

    public Task<ReadinessCheck> CheckAsync(CancellationToken cancellationToken)
    {
        var reasons = NotReady();
        return Task.FromResult(reasons.Count == 0
            ? ReadinessCheck.Ok(string.Join(", ", _jobs.OrderBy(j => j.Key, StringComparer.Ordinal).Select(j => $"{j.Key}: {j.Value.Partitions} partitions")))
            : ReadinessCheck.NotReady(string.Join("; ", reasons)));
    }
}
