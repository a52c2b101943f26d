using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>A consumer job that cannot make progress: its batch keeps failing past the retry budget.</summary>
public sealed record StalledHandler(string Handler, int Attempts, DateTimeOffset Since, string LastError);

public sealed class RoleHealth : IRoleHealth
{
    private static readonly Meter Meter = new("ReaSeq.Streaming");
    private readonly ConcurrentDictionary<string, StalledHandler> _stalled = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;

    public RoleHealth(TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        Meter.CreateObservableGauge("reaseq_role_unhealthy", () => _stalled.Values.Select(s =>
            new Measurement<int>(1, new KeyValuePair<string, object?>("handler", s.Handler))),
            description: "1 for each consumer job whose batch keeps failing past its retry budget");
    }

    public bool IsHealthy => _stalled.IsEmpty;

    public IReadOnlyList<StalledHandler> Stalled => _stalled.Values.OrderBy(s => s.Handler, StringComparer.Ordinal).ToList();

    public void ReportStalled(string handler, int attempts, Exception error) =>
        _stalled.AddOrUpdate(handler,
            h => new StalledHandler(h, attempts, _clock.GetUtcNow(), error.Message),
            (_, s) => s with { Attempts = attempts, LastError = error.Message });

    public void ReportHealthy(string handler) => _stalled.TryRemove(handler, out _);
}
