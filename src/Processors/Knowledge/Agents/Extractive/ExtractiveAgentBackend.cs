using System.Collections.Concurrent;
using System.Globalization;
using ReaSeq.Contracts.Knowledge;
using ReaSeq.Processors.Knowledge.Guards;
using ReaSeq.Processors.Knowledge.Taxonomy;

namespace ReaSeq.Processors.Knowledge.Agents.Extractive;

/// <summary>
/// The default, non-generative backend ("extractive"): layer 1 clusters phrases and attribute keys with the
/// sentence encoder, layer 2 keeps parent dimensions that the sub-category's items support and adds clusters of
/// what is left, layer 3 quotes the item's own spans nearest to each dimension. Deterministic for a given input.
/// </summary>
public sealed class ExtractiveAgentBackend : IKnowledgeAgentBackend
{
    public const string BackendName = "extractive";

    private readonly ISentenceEncoder _encoder;
    private readonly ExtractiveAgentOptions _options;
    private readonly ConcurrentDictionary<string, DimensionAnchors[]> _anchorCache = new(StringComparer.Ordinal);

    public ExtractiveAgentBackend(ISentenceEncoder encoder, ExtractiveAgentOptions? options = null, string promptVersion = "v1")
    {
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        _options = options ?? new ExtractiveAgentOptions();
        if (_options.MaxDimensions < 1 || _options.MinSupport < 1 || _options.MaxEvidencePerDimension < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "Dimension, support and evidence limits must be positive.");
        PromptVersion = promptVersion;
    }

    public string Name => BackendName;

    /// <summary>The agent contract version this backend's outputs follow (it renders no prompts).</summary>
    public string PromptVersion { get; }

    // ---------------------------------------------------------------- layer 1

    public Task<DimensionTaxonomy> ExtractDemandTaxonomyAsync(DemandExtractionInput input, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        List<Candidate> candidates;
        string source;
        if (input.Queries.Count > 0)
        {
            // Each query is one user expression; its support is how often it was searched.
            candidates = input.Queries.Select(q => q.Trim()).Where(q => q.Length > 0)
                .GroupBy(EvidenceGuard.Normalise)
                .Select(g => new Candidate(g.Key, g.Count(), [g.Key]))
                .ToList();
            source = $"{input.Queries.Count} search queries";
        }
        else
        {
            candidates = ItemPhrases(input.Items, minWords: 2, maxWords: 3, _options.MinSupport);
            if (candidates.Count < 2) candidates = ItemPhrases(input.Items, 1, 3, 1);
            source = $"titles and descriptions of {input.Items.Count} items (no queries recorded)";
        }
        var dimensions = ClusterIntoDimensions(candidates, "Demand expressions", new HashSet<string>());
        return Task.FromResult(new DimensionTaxonomy(input.Category, Perspective.Demand, dimensions,
            $"Clustered {candidates.Count} expressions from {source} into {dimensions.Count} dimensions by embedding similarity " +
            $"(average linkage, threshold {_options.ClusterSimilarity.ToString(CultureInfo.InvariantCulture)})."));
    }

    public Task<DimensionTaxonomy> ExtractAttributeTaxonomyAsync(AttributeExtractionInput input, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var candidates = AttributeKeyCandidates(input.Items);
        string source = $"{candidates.Count} merchant attribute keys";
        if (candidates.Count == 0)
        {
            // Without merchant attributes, single descriptive words of the titles (colours, materials, shapes)
            // stand in for attribute values; the demand stream uses multi-word phrases, keeping the views apart.
            candidates = ItemPhrases(input.Items, 1, 1, _options.MinSupport);
            if (candidates.Count < 2) candidates = ItemPhrases(input.Items, 1, 1, 1);
            source = $"{candidates.Count} recurring title/description terms (no merchant attributes)";
        }
        var dimensions = ClusterIntoDimensions(candidates, "Attribute keys", new HashSet<string>());
        return Task.FromResult(new DimensionTaxonomy(input.Category, Perspective.Attribute, dimensions,
            $"Grouped {source} of {input.Items.Count} items into {dimensions.Count} dimensions by embedding similarity."));
    }

    // ---------------------------------------------------------------- layer 2

    public Task<DimensionTaxonomy> RefineTaxonomyAsync(RefinementInput input, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var parent = input.Parent;
        var items = input.SampleItems;
        int minSupport = items.Count >= 2 * _options.MinSupport ? _options.MinSupport : 1;
        var observed = parent.Perspective == Perspective.Attribute && items.Any(i => i.Attributes.Count > 0)
            ? AttributeKeyCandidates(items)
            : parent.Perspective == Perspective.Attribute ? ItemPhrases(items, 1, 1, 1) : ItemPhrases(items, 1, 3, 1);

        var trace = new List<string> { $"Refining {parent.Perspective} taxonomy of '{parent.Category}' ({parent.Dimensions.Count} dimensions) for '{input.SubCategory}' from {items.Count} sampled items." };
        var anchors = Anchors(parent);
        var vectors = observed.Count == 0 ? [] : _encoder.Encode(observed.Select(c => c.Text).ToArray());
        var supportByDimension = parent.Dimensions.Select(_ => new List<Candidate>()).ToArray();
        var unassigned = new List<(Candidate Candidate, float[] Vector)>();
        for (int i = 0; i < observed.Count; i++)
        {
            var (dimension, similarity) = BestDimension(anchors, vectors[i]);
            if (similarity >= _options.RefinementSimilarity) supportByDimension[dimension].Add(observed[i]);
            else unassigned.Add((observed[i], vectors[i]));
        }

        var refined = new List<TaxonomyDimension>();
        for (int d = 0; d < parent.Dimensions.Count; d++)
        {
            var dimension = parent.Dimensions[d];
            var support = supportByDimension[d];
            int mentions = support.Sum(s => s.Support);
            if (support.Count == 0)
            {
                trace.Add($"Dropped '{dimension.Label}': no sampled item of '{input.SubCategory}' expresses it.");
                continue;
            }
            var parentMembers = new HashSet<string>(dimension.Members, StringComparer.OrdinalIgnoreCase);
            var novel = support.Where(s => !parentMembers.Contains(s.Text)).OrderByDescending(s => s.Support)
                .ThenBy(s => s.Text, StringComparer.Ordinal).Select(s => s.Text).ToArray();
            if (novel.Length == 0)
            {
                refined.Add(dimension with
                {
                    Origin = DimensionOrigin.Inherited,
                    Justification = $"Inherited: {mentions} mention(s) in the sample use the parent's own expressions."
                });
                trace.Add($"Kept '{dimension.Label}' unchanged ({mentions} supporting mention(s)).");
            }
            else
            {
                var members = dimension.Members.Where(m => support.Any(s => string.Equals(s.Text, m, StringComparison.OrdinalIgnoreCase)))
                    .Concat(novel).Take(12).ToArray();
                refined.Add(dimension with
                {
                    Members = members,
                    Origin = DimensionOrigin.Adapted,
                    Justification = $"Adapted: the sub-category expresses it as {Quote(novel.Take(3))}."
                });
                trace.Add($"Adapted '{dimension.Label}' to sub-category expressions {Quote(novel.Take(3))}.");
            }
        }

        var fresh = unassigned.Where(u => u.Candidate.Support >= minSupport).ToList();
        var taken = refined.Select(r => r.Label).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var dimension in ClusterIntoDimensions(fresh.Select(f => f.Candidate).ToList(), "Sub-category expressions", taken,
                     fresh.Select(f => f.Vector).ToArray()))
        {
            if (refined.Count >= _options.MaxDimensions + 2) break;
            refined.Add(dimension with
            {
                Origin = DimensionOrigin.New,
                Justification = $"New: recurring in '{input.SubCategory}' but not covered by any parent dimension."
            });
            trace.Add($"Added '{dimension.Label}' for {Quote(dimension.Members.Take(3))}.");
        }

        if (refined.Count == 0)
        {
            // Nothing in the sample speaks to any dimension: keep the parent's view rather than leave items undescribed.
            refined.AddRange(parent.Dimensions.Select(d => d with
            {
                Origin = DimensionOrigin.Inherited,
                Justification = "Inherited: the sample gave no evidence either way."
            }));
            trace.Add("No dimension had support; inherited the parent taxonomy unchanged.");
        }
        return Task.FromResult(new DimensionTaxonomy(input.SubCategory, parent.Perspective, refined, string.Join("\n", trace)));
    }

    // ---------------------------------------------------------------- layer 3

    public Task<ItemAnalysis> AnalyzeItemAsync(ItemAnalysisInput input, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var item = input.Item;
        var spans = ItemSpans(item);
        var spanVectors = spans.Count == 0 ? [] : _encoder.Encode(spans.Select(s => s.Text).ToArray());
        var result = new List<DimensionKnowledge>();
        foreach (var perspective in new[] { Perspective.Demand, Perspective.Attribute })
        {
            var taxonomy = input.Taxonomies.For(perspective);
            var anchors = Anchors(taxonomy);
            var matches = taxonomy.Dimensions.Select(_ => new List<(ItemSpan Span, double Similarity, string Anchor)>()).ToArray();

            // Merchant attributes whose key a dimension consolidates are direct evidence for it.
            foreach (var (key, value) in item.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                int d = FindMemberDimension(taxonomy, NormaliseKey(key));
                if (d >= 0 && value.Trim().Length > 0) matches[d].Add((new ItemSpan(value.Trim(), $"attribute '{key}'"), 1.0, key));
            }

            (int Dimension, int Span, double Similarity) fallback = (-1, -1, double.NegativeInfinity);
            for (int s = 0; s < spans.Count; s++)
            {
                var (d, similarity, anchor) = BestDimensionWithAnchor(anchors, spanVectors[s]);
                if (similarity >= _options.EvidenceSimilarity) matches[d].Add((spans[s], similarity, anchor));
                if (similarity > fallback.Similarity) fallback = (d, s, similarity);
            }
            if (matches.All(m => m.Count == 0) && fallback.Dimension >= 0)
            {
                // Every item is described along at least one dimension per perspective: its closest span.
                var (_, _, anchor) = BestDimensionWithAnchor(anchors, spanVectors[fallback.Span]);
                matches[fallback.Dimension].Add((spans[fallback.Span], fallback.Similarity, anchor));
            }

            for (int d = 0; d < taxonomy.Dimensions.Count; d++)
            {
                if (matches[d].Count == 0) continue;
                var chosen = new List<(ItemSpan Span, double Similarity, string Anchor)>();
                foreach (var match in matches[d].OrderByDescending(m => m.Similarity).ThenByDescending(m => m.Span.Text.Length)
                             .ThenBy(m => m.Span.Text, StringComparer.Ordinal))
                {
                    string normalised = EvidenceGuard.Normalise(match.Span.Text);
                    if (chosen.Any(c => EvidenceGuard.Normalise(c.Span.Text) is var other && (other.Contains(normalised) || normalised.Contains(other))))
                        continue;
                    chosen.Add(match);
                    if (chosen.Count == _options.MaxEvidencePerDimension) break;
                }
                var label = taxonomy.Dimensions[d].Label;
                // Short spans ("28 cm", "organic cotton") are already concepts; longer ones are cut to content words.
                var keywords = chosen.SelectMany(c => c.Span.Text.Count(char.IsWhiteSpace) < 3
                        ? [EvidenceGuard.Normalise(c.Span.Text)] : PhraseExtractor.ContentWords(c.Span.Text))
                    .Distinct(StringComparer.Ordinal).Take(_options.MaxKeywordsPerDimension).ToArray();
                string analysis = string.Join(" ", chosen.Select(c =>
                    $"The item's {c.Span.Field} says \"{c.Span.Text}\", which matches '{c.Anchor}' ({c.Similarity.ToString("F2", CultureInfo.InvariantCulture)})."));
                result.Add(new DimensionKnowledge(perspective, label, chosen.Select(c => c.Span.Text).ToArray(), analysis, keywords));
            }
        }
        return Task.FromResult(new ItemAnalysis(result));
    }

    // ---------------------------------------------------------------- helpers

    private sealed record Candidate(string Text, int Support, IReadOnlyList<string> Examples);

    private sealed record ItemSpan(string Text, string Field);

    /// <summary>Embeddings a dimension is recognised by: its label, description and members.</summary>
    private sealed record DimensionAnchors(string[] Texts, float[][] Vectors);

    private List<Candidate> ItemPhrases(IReadOnlyList<KnowledgeItem> items, int minWords, int maxWords, int minSupport)
    {
        var documentFrequency = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in items.OrderBy(i => i.ItemId, StringComparer.Ordinal))
        {
            var phrases = PhraseExtractor.NGrams(item.Title, minWords, maxWords)
                .Concat(PhraseExtractor.NGrams(item.Description, minWords, maxWords))
                .Select(p => p.Normalised).ToHashSet(StringComparer.Ordinal);
            foreach (var phrase in phrases) documentFrequency[phrase] = documentFrequency.GetValueOrDefault(phrase) + 1;
        }
        var frequent = documentFrequency.Where(p => p.Value >= minSupport).ToList();
        // A shorter phrase that only ever occurs inside one longer phrase adds nothing of its own.
        var kept = frequent.Where(p => !frequent.Any(q => q.Value == p.Value && q.Key.Length > p.Key.Length
                                                           && $" {q.Key} ".Contains($" {p.Key} ", StringComparison.Ordinal)))
            .OrderByDescending(p => p.Value).ThenByDescending(p => p.Key.Count(c => c == ' ')).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(_options.MaxPhrases)
            .Select(p => new Candidate(p.Key, p.Value, [p.Key]))
            .ToList();
        return kept;
    }

    private List<Candidate> AttributeKeyCandidates(IReadOnlyList<KnowledgeItem> items)
    {
        var values = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        var support = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            foreach (var (rawKey, rawValue) in item.Attributes)
            {
                string key = NormaliseKey(rawKey);
                if (key.Length == 0) continue;
                support[key] = support.GetValueOrDefault(key) + 1;
                var counts = values.TryGetValue(key, out var c) ? c : values[key] = new Dictionary<string, int>(StringComparer.Ordinal);
                string value = EvidenceGuard.Normalise(rawValue);
                if (value.Length > 0) counts[value] = counts.GetValueOrDefault(value) + 1;
            }
        }

        return support.OrderByDescending(s => s.Value).ThenBy(s => s.Key, StringComparer.Ordinal).Take(_options.MaxPhrases)
            .Select(s => new Candidate(s.Key, s.Value,
                values[s.Key].OrderByDescending(v => v.Value).ThenBy(v => v.Key, StringComparer.Ordinal).Take(4).Select(v => v.Key).ToArray()))
            .ToList();
    }

    private static string NormaliseKey(string key) => EvidenceGuard.Normalise(key.Replace('_', ' ').Replace('-', ' '));

    private List<TaxonomyDimension> ClusterIntoDimensions(List<Candidate> candidates, string memberNoun, ISet<string> takenLabels,
                                                          float[][]? vectors = null)
    {
        if (candidates.Count == 0) return [];
        // Attribute keys are embedded with their typical values: "colour: red, blue" clusters better than "colour".
        vectors ??= _encoder.Encode(candidates.Select(c => c.Examples.Count > 0 && c.Examples[0] != c.Text
            ? $"{c.Text}: {string.Join(", ", c.Examples)}" : c.Text).ToArray());
        var clusters = AgglomerativeClustering.Cluster(vectors, _options.ClusterSimilarity);
        var supportOf = candidates.Select(c => (double)c.Support).ToArray();
        var ranked = clusters
            .Select(members => (Members: members, Support: members.Sum(m => candidates[m].Support)))
            .OrderByDescending(c => c.Support).ThenBy(c => candidates[c.Members[0]].Text, StringComparer.Ordinal)
            .ToList();

        var dimensions = new List<TaxonomyDimension>();
        foreach (var (members, support) in ranked)
        {
            if (dimensions.Count >= _options.MaxDimensions) break;
            // A one-off expression is noise once the taxonomy already has a dimension.
            if (support < _options.MinSupport && dimensions.Count > 0) continue;
            string label = candidates[members[AgglomerativeClustering.MostCentral(members, vectors, supportOf)]].Text;
            if (!takenLabels.Add(label)) continue;
            var ordered = members.OrderByDescending(m => candidates[m].Support).ThenBy(m => candidates[m].Text, StringComparer.Ordinal)
                .Select(m => candidates[m]).ToArray();
            var examples = ordered.SelectMany(c => c.Examples).Where(e => !ordered.Any(o => o.Text == e)).Distinct().Take(6).ToArray();
            string description = $"{memberNoun}: {string.Join(", ", ordered.Take(8).Select(c => c.Text))}"
                                 + (examples.Length > 0 ? $". Typical values: {string.Join(", ", examples)}" : "")
                                 + $". Support: {support}.";
            dimensions.Add(new TaxonomyDimension(label, description, ordered.Select(c => c.Text).Take(24).ToArray()));
        }
        return dimensions;
    }

    private List<ItemSpan> ItemSpans(KnowledgeItem item)
    {
        var spans = new List<ItemSpan>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string text, string field)
        {
            if (spans.Count < _options.MaxSpansPerItem && text.Length > 0 && seen.Add(EvidenceGuard.Normalise(text)))
                spans.Add(new ItemSpan(text, field));
        }
        foreach (var phrase in PhraseExtractor.NGrams(item.Title, 1, 3)) Add(phrase.Verbatim, "title");
        foreach (var (key, value) in item.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal)) Add(value.Trim(), $"attribute '{key}'");
        foreach (var phrase in PhraseExtractor.NGrams(item.Description, 1, 3)) Add(phrase.Verbatim, "description");
        return spans;
    }

    private DimensionAnchors[] Anchors(DimensionTaxonomy taxonomy)
    {
        string key = $"{taxonomy.Perspective}|{taxonomy.Category}|{string.Join("|", taxonomy.Dimensions.Select(d => d.Label + "#" + d.Description + "#" + string.Join(",", d.Members)))}";
        if (_anchorCache.TryGetValue(key, out var known)) return known;
        var perDimension = taxonomy.Dimensions
            .Select(d => new[] { d.Label }.Concat(d.Members.Take(12)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray())
            .ToArray();
        var flat = perDimension.SelectMany(t => t).ToArray();
        var vectors = flat.Length == 0 ? [] : _encoder.Encode(flat);
        int offset = 0;
        var anchors = perDimension.Select(texts =>
        {
            var result = new DimensionAnchors(texts, vectors[offset..(offset + texts.Length)]);
            offset += texts.Length;
            return result;
        }).ToArray();
        if (_anchorCache.Count > 1024) _anchorCache.Clear(); // bounded: taxonomies change rarely
        return _anchorCache.GetOrAdd(key, anchors);
    }

    private static (int Dimension, double Similarity) BestDimension(DimensionAnchors[] anchors, float[] vector)
    {
        var (d, similarity, _) = BestDimensionWithAnchor(anchors, vector);
        return (d, similarity);
    }

    private static (int Dimension, double Similarity, string Anchor) BestDimensionWithAnchor(DimensionAnchors[] anchors, float[] vector)
    {
        (int, double, string) best = (-1, double.NegativeInfinity, "");
        for (int d = 0; d < anchors.Length; d++)
        {
            for (int a = 0; a < anchors[d].Vectors.Length; a++)
            {
                double similarity = AgglomerativeClustering.Dot(anchors[d].Vectors[a], vector);
                if (similarity > best.Item2) best = (d, similarity, anchors[d].Texts[a]);
            }
        }

        return best;
    }

    private static int FindMemberDimension(DimensionTaxonomy taxonomy, string normalisedKey)
    {
        for (int d = 0; d < taxonomy.Dimensions.Count; d++)
            if (taxonomy.Dimensions[d].Members.Any(m => NormaliseKey(m) == normalisedKey)) return d;
        return -1;
    }

    private static string Quote(IEnumerable<string> texts) => string.Join(", ", texts.Select(t => $"'{t}'"));
}
