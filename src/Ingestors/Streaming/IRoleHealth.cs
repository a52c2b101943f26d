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
}
