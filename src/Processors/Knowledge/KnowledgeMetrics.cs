using System.Diagnostics;
using System.Diagnostics.Metrics;
using ReaSeq.Processors.Knowledge.Agents;

namespace ReaSeq.Processors.Knowledge;

/// <summary>Instruments of the knowledge processor, all on the meter "ReaSeq.Knowledge".</summary>
public sealed class KnowledgeMetrics : IDisposable
{
    public const string MeterName = "ReaSeq.Knowledge";

    private readonly Counter<long> _agentCalls;
    private readonly Histogram<double> _agentLatency;
    private readonly Counter<long> _cacheHits;
    private readonly Counter<long> _cacheMisses;
    private readonly Counter<long> _taxonomyRebuilds;
    private readonly Counter<long> _evidenceRejected;
    private readonly Counter<long> _keywordsRejected;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _items;
    private readonly Counter<long> _adapterTrainings;
    private volatile SemanticIdGauges? _semanticIds;

    private sealed record SemanticIdGauges(double RqVaeCollision, double[] Usage, double? PublishedCollision);

    public KnowledgeMetrics(IMeterFactory? meterFactory = null)
    {
        Meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _agentCalls = Meter.CreateCounter<long>("reaseq.knowledge.agent.calls", description: "Agent calls by backend, layer and outcome");
        _agentLatency = Meter.CreateHistogram<double>("reaseq.knowledge.agent.latency", "ms", "Agent call latency");
        _taxonomyRebuilds = Meter.CreateCounter<long>("reaseq.knowledge.taxonomy.rebuilds", description: "Taxonomies rebuilt as a new generation because their category's corpus grew or their parent was rebuilt");
        _cacheHits = Meter.CreateCounter<long>("reaseq.knowledge.taxonomy_cache.hits");
        _cacheMisses = Meter.CreateCounter<long>("reaseq.knowledge.taxonomy_cache.misses");
        _evidenceRejected = Meter.CreateCounter<long>("reaseq.knowledge.evidence.rejected",
            description: "Evidence spans not found in the item's metadata (hallucination guard)");
        _keywordsRejected = Meter.CreateCounter<long>("reaseq.knowledge.keywords.rejected",
            description: "Keywords sharing no word with their dimension's accepted evidence (hallucination guard)");
        _retries = Meter.CreateCounter<long>("reaseq.knowledge.agent.retries", description: "Agent retries by reason");
        _items = Meter.CreateCounter<long>("reaseq.knowledge.items", description: "Items through layer 3 by outcome");
        // Semantic id quality of the deployment's current model (Appendix C; issue 10 §1).
        Meter.CreateObservableGauge("reaseq_knowledge_semantic_id_collision_ratio", ObserveCollisions, "1",
            "Items sharing their semantic id with another item: ids=rqvae (codes alone, on the training items) or ids=full (as stored, with the de-duplication level)");
        Meter.CreateObservableGauge("reaseq_knowledge_semantic_id_codebook_usage_ratio", ObserveUsage, "1",
            "Share of each level's codes used by the training items");
        _adapterTrainings = Meter.CreateCounter<long>("reaseq_knowledge_iui_trainings_total", description: "IUI adapter versions trained by this process");
    }

    public Meter Meter { get; }

    public void AgentCall(string backend, AgentLayer layer, bool success, TimeSpan latency)
    {
        var tags = new TagList { { "backend", backend }, { "layer", layer.ToString() }, { "outcome", success ? "ok" : "error" } };
        _agentCalls.Add(1, tags);
        _agentLatency.Record(latency.TotalMilliseconds, tags);
    }

    public void CacheHit(string backend) => _cacheHits.Add(1, new KeyValuePair<string, object?>("backend", backend));
    public void CacheMiss(string backend) => _cacheMisses.Add(1, new KeyValuePair<string, object?>("backend", backend));
    public void TaxonomyRebuilt(string backend) => _taxonomyRebuilds.Add(1, new KeyValuePair<string, object?>("backend", backend));

    public void KeywordsRejected(string backend, int count)
    {
        if (count > 0) _keywordsRejected.Add(count, new KeyValuePair<string, object?>("backend", backend));
    }

    public void EvidenceRejected(string backend, int count)
    {
        if (count > 0) _evidenceRejected.Add(count, new KeyValuePair<string, object?>("backend", backend));
    }

    /// <summary>reason: rate_limited, server_error, timeout, invalid_json, schema_violation.</summary>
    public void Retry(string backend, AgentLayer layer, string reason) =>
        _retries.Add(1, new TagList { { "backend", backend }, { "layer", layer.ToString() }, { "reason", reason } });

    public void Item(string backend, string outcome) =>
        _items.Add(1, new TagList { { "backend", backend }, { "outcome", outcome } });

    /// <summary>Records the current semantic id model's quality for the gauges (nothing while there is no model).</summary>
    public void SemanticIdQuality(Streaming.SemanticIdModelPointer? pointer, double? publishedCollisionRate) =>
        _semanticIds = pointer is null ? null : new SemanticIdGauges(pointer.CollisionRate, pointer.CodebookUsage, publishedCollisionRate);

    public void AdapterTrained() => _adapterTrainings.Add(1);

    private IEnumerable<Measurement<double>> ObserveCollisions()
    {
        if (_semanticIds is not { } ids) yield break;
        yield return new Measurement<double>(ids.RqVaeCollision, new KeyValuePair<string, object?>("ids", "rqvae"));
        if (ids.PublishedCollision is { } full) yield return new Measurement<double>(full, new KeyValuePair<string, object?>("ids", "full"));
    }

    private IEnumerable<Measurement<double>> ObserveUsage()
    {
        if (_semanticIds is not { } ids) yield break;
        for (int level = 0; level < ids.Usage.Length; level++)
            yield return new Measurement<double>(ids.Usage[level], new KeyValuePair<string, object?>("level", level));
    }

    public void Dispose() => Meter.Dispose();
}
