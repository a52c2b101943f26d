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
/// Orchestrates §2.1: layers 1-2 per category (cached by (category, prompt version, backend), rebuilt as a new
/// generation when the category's corpus has grown), layer 3 per item,
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
    private readonly ConcurrentDictionary<(TaxonomyCacheKey, int Generation), Lazy<Task<CategoryTaxonomies>>> _building = new();
    private readonly ConcurrentDictionary<TaxonomyCacheKey, long> _lastGrowthCheck = new();
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

    private async Task<CategoryTaxonomies> GetOrBuildAsync(CategoryPath category, CancellationToken cancellationToken, bool countHit = true)
    {
        var key = CacheKey(category);
        var cached = await _cache.TryGetAsync(key, cancellationToken);
        if (cached is not null)
        {
            var successor = await DueRebuildAsync(category, key, cached, cancellationToken);
            if (successor is null)
            {
                if (countHit) _metrics.CacheHit(_backend.Name);
                return cached;
            }
            cached = successor;
        }
        int generation = (cached?.Generation ?? 0) + 1;
        var lazy = _building.GetOrAdd((key, generation), _ => new Lazy<Task<CategoryTaxonomies>>(() => BuildOnceAsync(key, generation, category)));
        // The shared build is not cancelled by one waiter giving up; each waiter can still stop waiting.
        return await lazy.Value.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// E17: a taxonomy built from a category's first few items would describe that category for ever. A primary
    /// category's taxonomy is due again once the category holds <see cref="KnowledgeReasonerOptions.RebuildGrowthFactor"/>
    /// times the items it was built from (and at least <see cref="KnowledgeReasonerOptions.RebuildMinNewItems"/> more),
    /// looked at most every <see cref="KnowledgeReasonerOptions.RebuildCheckMs"/> per category; a refinement (layer 2)
    /// is due when the parent it refined was rebuilt. Returns the stored taxonomy that the rebuild should succeed (a
    /// newer generation another instance stored may be returned as current instead), or null when nothing is due.
    /// </summary>
    private async Task<CategoryTaxonomies?> DueRebuildAsync(CategoryPath category, TaxonomyCacheKey key, CategoryTaxonomies cached,
        CancellationToken cancellationToken)
    {
        if (_options.RebuildGrowthFactor <= 0) return null;
        if (category.Depth > 1)
        {
            // The parent's own growth check runs here too; it is not another cache hit of this request.
            var parent = await GetOrBuildAsync(category.Parent, cancellationToken, countHit: false);
            bool refinesOlderParent = cached.ParentVersion.Length > 0 ? cached.ParentVersion != parent.Version : parent.Generation > 1;
            return refinesOlderParent ? cached : null;
        }
        long now = Environment.TickCount64;
        if (_lastGrowthCheck.TryGetValue(key, out long last) && now - last < _options.RebuildCheckMs) return null;
        _lastGrowthCheck[key] = now;
        // Another instance may have rebuilt it already: judge the newest stored generation.
        if (await _cache.RefreshAsync(key, cancellationToken) is { } stored && stored.Generation > cached.Generation) cached = stored;
        int items = await _corpus.CountItemsAsync(category, cancellationToken);
        bool grown = items >= _options.RebuildGrowthFactor * Math.Max(1, cached.CorpusItems) && items - cached.CorpusItems >= _options.RebuildMinNewItems;
        return grown ? cached : null;
    }

    private async Task<CategoryTaxonomies> BuildOnceAsync(TaxonomyCacheKey key, int generation, CategoryPath category)
    {
        try
        {
            return await BuildAsync(key, generation, category, CancellationToken.None);
        }
        finally
        {
            // Success lives on in the cache; a failure must not be remembered, so the next item retries the build.
            _building.TryRemove((key, generation), out _);
        }
    }

    private async Task<CategoryTaxonomies> BuildAsync(TaxonomyCacheKey key, int generation, CategoryPath category, CancellationToken cancellationToken)
    {
        if (await _cache.TryGetAsync(key, cancellationToken) is { } cached && cached.Generation >= generation)
        {
            _metrics.CacheHit(_backend.Name);
            return cached;
        }
        _metrics.CacheMiss(_backend.Name);

        CategoryTaxonomies built;
        if (category.Depth == 1)
        {
            int items = await _corpus.CountItemsAsync(category, cancellationToken);
            var corpus = await _corpus.GetCorpusAsync(category, _options.MaxCorpusItems, cancellationToken);
            if (corpus.Items.Count == 0 && corpus.Queries.Count == 0)
                throw new InvalidOperationException($"Category '{category}' has neither items nor queries to build a taxonomy from.");
            var demandTask = CallAsync(AgentLayer.DemandTaxonomy,
                ct => _backend.ExtractDemandTaxonomyAsync(new DemandExtractionInput(category, corpus.Queries, corpus.Items), ct), cancellationToken);
            var attributeTask = CallAsync(AgentLayer.AttributeTaxonomy,
                ct => _backend.ExtractAttributeTaxonomyAsync(new AttributeExtractionInput(category, corpus.Items), ct), cancellationToken);
            built = new CategoryTaxonomies(await demandTask, await attributeTask, _backend.PromptVersion, _backend.Name)
            {
                Generation = generation,
                CorpusItems = Math.Max(items, corpus.Items.Count),
            };
        }
        else
        {
            var parent = await GetOrBuildAsync(category.Parent, cancellationToken);
            var sample = await _corpus.GetCorpusAsync(category, _options.RefinementSampleSize, cancellationToken);
            var demandTask = CallAsync(AgentLayer.Refinement,
                ct => _backend.RefineTaxonomyAsync(new RefinementInput(parent.Demand, category, sample.Items), ct), cancellationToken);
            var attributeTask = CallAsync(AgentLayer.Refinement,
                ct => _backend.RefineTaxonomyAsync(new RefinementInput(parent.Attribute, category, sample.Items), ct), cancellationToken);
            built = new CategoryTaxonomies(await demandTask, await attributeTask, _backend.PromptVersion, _backend.Name)
            {
                Generation = generation,
                ParentVersion = parent.Version,
            };
        }

        ValidateTaxonomies(built, category);
        await _cache.SetAsync(key, built, cancellationToken);
        if (generation > 1) _metrics.TaxonomyRebuilt(_backend.Name);
        _logger.LogInformation("Built taxonomy {Category} generation {Generation} version {TaxonomyVersion} with {Backend}: {Demand} demand, {Attribute} attribute dimensions",
            category, generation, built.Version, _backend.Name, built.Demand.Dimensions.Count, built.Attribute.Dimensions.Count);
        // Another instance may have stored this generation first: the stored one is canonical.
        return await _cache.TryGetAsync(key, cancellationToken) ?? built;
    }

    /// <summary>
    /// The version of the taxonomy an item of <paramref name="category"/> would be reasoned under now (building or
    /// rebuilding it when due). An item whose stored knowledge names another version is re-reasoned: lazily, when its
    /// next update arrives, so a rebuild never re-reasons a whole category at once.
    /// </summary>
    public async Task<string> CurrentTaxonomyVersionAsync(CategoryPath category, CancellationToken cancellationToken) =>
        (await GetTaxonomiesAsync(category, cancellationToken)).Version;

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
