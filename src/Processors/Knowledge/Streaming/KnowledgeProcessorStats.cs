using System.Diagnostics.Metrics;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>Running totals of the knowledge role for progress lines and summaries (the meter carries the same for scraping).</summary>
public sealed class KnowledgeProcessorStats : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _consumed, _published, _unchanged, _deadLettered, _categoryAssigned, _rejectedEvidence, _deleted, _republished, _retaxonomised;
    private long _cacheHits, _cacheMisses;

    public KnowledgeProcessorStats(KnowledgeMetrics metrics)
    {
        // Taxonomy cache hits and misses are counted inside the reasoner; listen to this role's own meter only.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter) &&
                instrument.Name is "reaseq.knowledge.taxonomy_cache.hits" or "reaseq.knowledge.taxonomy_cache.misses")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name.EndsWith(".hits", StringComparison.Ordinal)) Interlocked.Add(ref _cacheHits, value);
            else Interlocked.Add(ref _cacheMisses, value);
        });
        _listener.Start();
    }

    /// <summary>Item update records handled, any outcome (for lag).</summary>
    public long Consumed => Interlocked.Read(ref _consumed);
    /// <summary>ItemKnowledge records published by the processor.</summary>
    public long Published => Interlocked.Read(ref _published);
    /// <summary>Updates skipped because the item's content hash equals the stored one.</summary>
    public long Unchanged => Interlocked.Read(ref _unchanged);

    /// <summary>Items with unchanged metadata re-reasoned because their category's taxonomy was rebuilt (E17).</summary>
    public long Retaxonomised => Interlocked.Read(ref _retaxonomised);
    public long DeadLettered => Interlocked.Read(ref _deadLettered);
    public long CategoryAssigned => Interlocked.Read(ref _categoryAssigned);
    public long RejectedEvidence => Interlocked.Read(ref _rejectedEvidence);
    public long Deleted => Interlocked.Read(ref _deleted);
    /// <summary>ItemKnowledge re-published by the semantic id trainer after a model change.</summary>
    public long Republished => Interlocked.Read(ref _republished);
    public long TaxonomyCacheHits => Interlocked.Read(ref _cacheHits);
    public long TaxonomyCacheMisses => Interlocked.Read(ref _cacheMisses);

    internal void AddConsumed(long n) => Interlocked.Add(ref _consumed, n);
    internal void AddPublished(long n) => Interlocked.Add(ref _published, n);
    internal void AddUnchanged(long n) => Interlocked.Add(ref _unchanged, n);

    internal void AddRetaxonomised(long n) => Interlocked.Add(ref _retaxonomised, n);
    internal void AddDeadLettered(long n) => Interlocked.Add(ref _deadLettered, n);
    internal void AddCategoryAssigned(long n) => Interlocked.Add(ref _categoryAssigned, n);
    internal void AddRejectedEvidence(long n) => Interlocked.Add(ref _rejectedEvidence, n);
    internal void AddDeleted(long n) => Interlocked.Add(ref _deleted, n);
    internal void AddRepublished(long n) => Interlocked.Add(ref _republished, n);

    public void Dispose() => _listener.Dispose();
}
