namespace ReaSeq.Ingestors.Streaming.Operations;

/// <summary>
/// One condition of a role's readiness (/readyz): the shared runtime contributes its consumer jobs (assigned partitions
/// loaded, none stalled), PostgreSQL and the broker; a role adds what only it knows (its model loaded). Register an
/// implementation as a singleton <see cref="IReadinessContributor"/>; the process is ready when all of them are.
/// </summary>
public interface IReadinessContributor
{
    /// <summary>Short name shown in /readyz (postgres, kafka, consumers, model:...).</summary>
    string Name { get; }

    /// <summary>Checks the condition now; must honour <paramref name="cancellationToken"/> (the probe's timeout).</summary>
    Task<ReadinessCheck> CheckAsync(CancellationToken cancellationToken);
}
