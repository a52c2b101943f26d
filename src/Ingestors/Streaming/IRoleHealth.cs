namespace ReaSeq.Ingestors.Streaming;

/// <summary>
/// Whether the process's consumer jobs make progress, for readiness probes (/readyz) and the
/// <c>reaseq_role_unhealthy</c> gauge. The consumer loop reports a job stalled once a batch has failed more often than
/// <see cref="KafkaOptions.BatchRetryBudget"/> allows (it keeps retrying), and healthy again when a batch succeeds.
/// </summary>
public interface IRoleHealth
{
    bool IsHealthy { get; }

    /// <summary>The jobs currently stalled.</summary>
    IReadOnlyList<StalledHandler> Stalled { get; }

    void ReportStalled(string handler, int attempts, Exception error);

    void ReportHealthy(string handler);

    /// <summary>A consumer job subscribed and waits for its first assignment (not ready yet).</summary>
    void ReportJoining(string handler) { }

    /// <summary>A consumer job is loading the state of newly assigned partitions (not ready while it does).</summary>
    void ReportLoading(string handler) { }

    /// <summary>A consumer job's assigned partitions are loaded; it now owns <paramref name="partitions"/> partitions.</summary>
    void ReportAssigned(string handler, int partitions) { }

    /// <summary>A consumer job stopped (the process is stopping): it no longer counts for readiness.</summary>
    void ReportStopped(string handler) { }
}
