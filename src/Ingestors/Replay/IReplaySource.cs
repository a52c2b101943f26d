namespace ReaSeq.Ingestors.Replay;

/// <summary>
/// A pure, deterministic generator of contract records: the same input and options always yield the same
/// records with the same ids, so a replay can be repeated and deduplicated downstream.
/// </summary>
public interface IReplaySource
{
    string Name { get; }

    /// <summary>Yields records in publication order. Each call starts from the beginning and resets <see cref="Stats"/>.</summary>
    IEnumerable<ReplayRecord> Read(CancellationToken ct = default);

    /// <summary>Live counters of the current (or last) <see cref="Read"/>; safe to read from another thread.</summary>
    ReplaySourceStats Stats { get; }
}
