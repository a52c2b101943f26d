namespace ReaSeq.Processors.Sequence;

/// <summary>
/// Where partitions publish their gap sketches and freeze the deployment-wide T of a (domain, epoch).
/// <see cref="FreezeAsync"/> is first-writer-wins: once an epoch's T is recorded, every partition, every restart and
/// every replay reads the recorded value, so decisions depend on the input and the record, never on timing.
/// </summary>
public interface IGapSketchStore
{
    /// <summary>Replaces the contribution of one partition to one domain with its sketch's counts.</summary>
    Task PublishAsync(int partition, string domain, long[] counts, CancellationToken ct);

    /// <summary>Returns the recorded T of (domain, epoch); if none is recorded, computes one from the merged sketch of every partition and records it.</summary>
    Task<FrozenThreshold> FreezeAsync(string domain, long epoch, Func<GapQuantileSketch, FrozenThreshold> compute, CancellationToken ct);
}
