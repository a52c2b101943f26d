using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts.Knowledge;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Encoders;
using ReaSeq.Processors.Knowledge.Guards;
using ReaSeq.Processors.Knowledge.Taxonomy;

namespace ReaSeq.Processors.Knowledge;

/// <summary>
/// Orchestrates §2.1: layers 1-2 per category (cached by (category, prompt version, backend)), layer 3 per item,
/// the hallucination guard, classification of uncategorised items, and the §2.1.2 encoding. Thread-safe; items
/// may be analysed concurrently, and concurrent requests for one taxonomy build it once.
/// </summary>
public sealed class KnowledgeReasoner
{
    private readonly IKnowledgeAgentBackend _backend;
    private readonly ISentenceEncoder _encoder;
    private readonly ITaxonomyCache _cache;
    private readonly ICategoryCorpusSource _corpus;
    private readonly KnowledgeReasonerOptions _options;
    private readonly KnowledgeMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<TaxonomyCacheKey, Lazy<Task<CategoryTaxonomies>>> _building = new();
    private readonly ConcurrentDictionary<CategoryPath, float[]> _centroids = new();

    public KnowledgeReasoner(IKnowledgeAgentBackend backend, ISentenceEncoder encoder, ITaxonomyCache cache,
                             ICategoryCorpusSource corpus, KnowledgeReasonerOptions? options = null,
                             KnowledgeMetrics? metrics = null, ILogger<KnowledgeReasoner>? logger = null)
    {
        _backend = backend ?? throw new ArgumentNullException(nameof(backend));
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        _corpus = corpus ?? throw new ArgumentNullException(nameof(corpus));
        _options = options ?? new KnowledgeReasonerOptions();
        _options.Validate();
        _metrics = metrics ?? new KnowledgeMetrics();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public string BackendName => _backend.Name;
    public string PromptVersion => _backend.PromptVersion;

    /// <summary>
    /// The version of an item's knowledge: a hash of its metadata and of everything that derives knowledge from it —
    /// the agent backend, its prompt version and the encoder. Switching any of them (e.g. from the extractive backend to
    /// an LLM) makes every item's stored hash stale, so the catalog is re-reasoned as its items arrive again.
    /// </summary>
    public string KnowledgeHash(KnowledgeItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        string derivation = string.Join('\n', item.ContentHash(), _backend.Name, _backend.PromptVersion, _encoder.ModelName);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(derivation)));
    }

    public TaxonomyCacheKey CacheKey(CategoryPath category) => TaxonomyCacheKey.For(category, _backend.PromptVersion, _backend.Name);

    /// <summary>
    /// Taxonomies for a category at any depth: layer 1 for the primary category, then one layer-2 refinement per
    /// deeper level (each level refines its parent). Every level is cached.
    /// </summary>
    public Task<CategoryTaxonomies> GetTaxonomiesAsync(CategoryPath category, CancellationToken cancellationToken)
    {
        if (category.IsEmpty) throw new ArgumentException("A category is required; classify the item first.", nameof(category));
        return GetOrBuildAsync(category, cancellationToken);
    }

    private async Task<CategoryTaxonomies> GetOrBuildAsync(CategoryPath category, CancellationToken cancellationToken)
    {
        var key = CacheKey(category);
        if (await _cache.TryGetAsync(key, cancellationToken) is { } cached)
        {
            _metrics.CacheHit(_backend.Name);
            return cached;
        }

        var lazy = _building.GetOrAdd(key, _ => new Lazy<Task<CategoryTaxonomies>>(() => BuildOnceAsync(key, category)));
        // The shared build is not cancelled by one waiter giving up; each waiter can still stop waiting.
        return await lazy.Value.WaitAsync(cancellationToken);
    }

    private async Task<CategoryTaxonomies> BuildOnceAsync(TaxonomyCacheKey key, CategoryPath category)
    {
        try
        {
            return await BuildAsync(key, category, CancellationToken.None);
        }
        finally
        {
            // Success lives on in the cache; a failure must not be remembered, so the next item retries the build.
            _building.TryRemove(key, out _);
        }
    }

    private async Task<CategoryTaxonomies> BuildAsync(TaxonomyCacheKey key, CategoryPath category, CancellationToken cancellationToken)
    {
        if (await _cache.TryGetAsync(key, cancellationToken) is { } cached)
        {
            _metrics.CacheHit(_backend.Name);
            return cached;
        }
        _metrics.CacheMiss(_backend.Name);

        CategoryTaxonomies built;
        if (category.Depth == 1)
        {
            var corpus = await _corpus.GetCorpusAsync(category, _options.MaxCorpusItems, cancellationToken);
            if (corpus.Items.Count == 0 && corpus.Queries.Count == 0)
                throw new InvalidOperationException($"Category '{category}' has neither items nor queries to build a taxonomy from.");
            var demandTask = CallAsync(AgentLayer.DemandTaxonomy,
                ct => _backend.ExtractDemandTaxonomyAsync(new DemandExtractionInput(category, corpus.Queries, corpus.Items), ct), cancellationToken);
            var attributeTask = CallAsync(AgentLayer.AttributeTaxonomy,
                ct => _backend.ExtractAttributeTaxonomyAsync(new AttributeExtractionInput(category, corpus.Items), ct), cancellationToken);
            built = new CategoryTaxonomies(await demandTask, await attributeTask, _backend.PromptVersion, _backend.Name);
        }
        else
        {
            var parent = await GetOrBuildAsync(category.Parent, cancellationToken);
            var sample = await _corpus.GetCorpusAsync(category, _options.RefinementSampleSize, cancellationToken);
            var demandTask = CallAsync(AgentLayer.Refinement,
                ct => _backend.RefineTaxonomyAsync(new RefinementInput(parent.Demand, category, sample.Items), ct), cancellationToken);
            var attributeTask = CallAsync(AgentLayer.Refinement,
                ct => _backend.RefineTaxonomyAsync(new RefinementInput(parent.Attribute, category, sample.Items), ct), cancellationToken);
            built = new CategoryTaxonomies(await demandTask, await attributeTask, _backend.PromptVersion, _backend.Name);
        }

        ValidateTaxonomies(built, category);
        await _cache.SetAsync(key, built, cancellationToken);
        _logger.LogInformation("Built taxonomy {Category} version {TaxonomyVersion} with {Backend}: {Demand} demand, {Attribute} attribute dimensions",
            category, built.Version, _backend.Name, built.Demand.Dimensions.Count, built.Attribute.Dimensions.Count);
        return built;
    }

    private void ValidateTaxonomies(CategoryTaxonomies taxonomies, CategoryPath category)
    {
        foreach (var taxonomy in new[] { taxonomies.Demand, taxonomies.Attribute })
        {
            if (taxonomy.Category != category)
            {
                throw new AgentOutputException(_backend.Name, AgentLayer.Refinement, AgentOutputFailure.SchemaViolation,
                    $"taxonomy for '{taxonomy.Category}' returned where '{category}' was asked for");
            }

            if (taxonomy.Dimensions.Count == 0)
            {
                throw new AgentOutputException(_backend.Name, AgentLayer.Refinement, AgentOutputFailure.SchemaViolation,
                    $"{taxonomy.Perspective} taxonomy of '{category}' has no dimensions");
            }
        }
    }

    /// <summary>Nearest category centroid (mean embedding of a sample of its items) among the deepest categories.</summary>
    public async Task<CategoryAssignment> ClassifyAsync(KnowledgeItem item, CancellationToken cancellationToken)
    {
        var categories = await _corpus.ListCategoriesAsync(cancellationToken);
        var leaves = categories.Where(c => !categories.Any(other => other.Depth > c.Depth && other.StartsWith(c))).ToArray();
        if (leaves.Length == 0)
            throw new InvalidOperationException("No categorised items exist to classify an uncategorised item against.");

        var itemVector = _encoder.Encode([ClassificationText(item)])[0];
        CategoryAssignment? best = null;
        foreach (var leaf in leaves)
        {
            var centroid = await CentroidAsync(leaf, cancellationToken);
            double score = 0;
            for (int i = 0; i < centroid.Length; i++) score += centroid[i] * (double)itemVector[i];
            if (best is null || score > best.Score) best = new CategoryAssignment(leaf, score);
        }
        return best!;
    }

    private async Task<float[]> CentroidAsync(CategoryPath category, CancellationToken cancellationToken)
    {
        if (_centroids.TryGetValue(category, out var known)) return known;
        var corpus = await _corpus.GetCorpusAsync(category, _options.ClassificationSampleSize, cancellationToken);
        var vectors = _encoder.Encode(corpus.Items.Select(ClassificationText).ToArray());
        var centroid = new float[_encoder.Dimension];
        foreach (var v in vectors)
            for (int i = 0; i < centroid.Length; i++) centroid[i] += v[i];
        double norm = Math.Sqrt(centroid.Sum(x => (double)x * x));
        if (norm > 0) for (int i = 0; i < centroid.Length; i++) centroid[i] = (float)(centroid[i] / norm);
        return _centroids.GetOrAdd(category, centroid);
    }

    /// <summary>Forget classification centroids, e.g. after many catalog changes.</summary>
    public void ResetClassifier() => _centroids.Clear();

    private static string ClassificationText(KnowledgeItem item) =>
        item.Description.Length > 0 ? $"{item.Title}. {item.Description}" : item.Title;

    /// <summary>
    /// The per-item path: classify if uncategorised, fetch (or build) the category's taxonomies, run layer 3,
    /// drop ungrounded evidence, encode. Throws <see cref="AgentOutputException"/> when the item should be
    /// dead-lettered and <see cref="AgentUnavailableException"/> when the agent is (transiently) unreachable.
    /// </summary>
    public async Task<ItemKnowledgeResult> AnalyzeItemAsync(KnowledgeItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        var category = item.CategoryPath;
        double? classificationScore = null;
        if (category.IsEmpty)
        {
            var assignment = await ClassifyAsync(item, cancellationToken);
            category = assignment.Category;
            classificationScore = assignment.Score;
            item = item.WithCategory(category);
        }

        var taxonomies = await GetTaxonomiesAsync(category, cancellationToken);
        ItemAnalysis raw;
        try
        {
            raw = await CallAsync(AgentLayer.ItemKnowledge,
                ct => _backend.AnalyzeItemAsync(new ItemAnalysisInput(item, taxonomies), ct), cancellationToken);
        }
        catch (AgentOutputException)
        {
            _metrics.Item(_backend.Name, "dead_letter");
            throw;
        }

        var guarded = EvidenceGuard.Apply(item, taxonomies, raw);
        _metrics.EvidenceRejected(_backend.Name, guarded.RejectedEvidence);
        _metrics.KeywordsRejected(_backend.Name, guarded.RejectedKeywords);
        if (guarded.RejectedEvidence > 0 || guarded.RejectedKeywords > 0)
        {
            _logger.LogWarning("Rejected {Count} ungrounded evidence span(s), {Keywords} ungrounded keyword(s) and {Dimensions} dimension(s) for item {ItemId} from {Backend}",
                guarded.RejectedEvidence, guarded.RejectedKeywords, guarded.RejectedDimensions, item.ItemId, _backend.Name);
        }

        if (guarded.Analysis.Dimensions.Count == 0)
        {
            _metrics.Item(_backend.Name, "dead_letter");
            throw new AgentOutputException(_backend.Name, AgentLayer.ItemKnowledge, AgentOutputFailure.NoGroundedKnowledge,
                $"item {item.ItemId}: none of {raw.Dimensions.Count} dimension(s) had evidence found in the item's metadata");
        }

        var dimensions = guarded.Analysis.Dimensions;
        var vector = KnowledgeEncoding.Encode(_encoder, dimensions);
        _metrics.Item(_backend.Name, "ok");
        return new ItemKnowledgeResult(
            item.ItemId, category, classificationScore.HasValue, classificationScore,
            dimensions.Where(d => d.Perspective == Perspective.Demand).ToArray(),
            dimensions.Where(d => d.Perspective == Perspective.Attribute).ToArray(),
            vector, _encoder.ModelName, KnowledgeHash(item), _backend.PromptVersion, _backend.Name,
            taxonomies.Version, guarded.RejectedEvidence);
    }

    private async Task<T> CallAsync<T>(AgentLayer layer, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        bool success = false;
        try
        {
            var result = await call(cancellationToken);
            success = true;
            return result;
        }
        finally
        {
            _metrics.AgentCall(_backend.Name, layer, success, Stopwatch.GetElapsedTime(started));
        }
    }
}
