namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// Serialises everything that publishes ItemKnowledge in this process (processor batches, trainer re-publishing),
/// so a re-published older row can never land on the topic after a newer version of the same item.
/// </summary>
public sealed class KnowledgeOutputGate
{
    private readonly SemaphoreSlim _semaphore = new(1, 1);

    public async Task<IDisposable> EnterAsync(CancellationToken ct)
    {
        await _semaphore.WaitAsync(ct);
        return new Releaser(_semaphore);
    }

    private sealed class Releaser(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) semaphore.Release();
        }
    }
}
