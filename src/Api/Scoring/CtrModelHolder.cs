namespace ReaSeq.Api.Scoring;

/// <summary>
/// The model version requests are scored with. A new version is loaded beside the current one and swapped in with one
/// atomic reference exchange; requests that leased the old version finish on it (reference counted), so no request
/// fails or mixes versions during a swap, and the old weights are freed when its last request ends.
/// </summary>
public sealed class CtrModelHolder(ApiMetrics metrics) : IDisposable
{
    private ServingModel? _current;

    public ServingModel? Current => Volatile.Read(ref _current);

    /// <summary>A lease on the current version, or null when no version is loaded yet.</summary>
    public ModelLease? Acquire()
    {
        while (true)
        {
            var model = Volatile.Read(ref _current);
            if (model is null) return null;
            // A model released between the read and TryRetain was swapped out: read the new one.
            if (model.TryRetain()) return new ModelLease(model);
        }
    }

    /// <summary>Makes <paramref name="model"/> current; the previous version is released once its requests end.</summary>
    public void Swap(ServingModel model)
    {
        var previous = Interlocked.Exchange(ref _current, model);
        previous?.Dispose();
        metrics.ModelSwaps.Add(1);
    }

    public void Dispose() => Interlocked.Exchange(ref _current, null)?.Dispose();
}
