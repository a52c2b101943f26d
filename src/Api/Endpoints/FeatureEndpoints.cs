using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using ReaSeq.Api.Dto;
using ReaSeq.Api.Features;
using ReaSeq.Api.Protection;

namespace ReaSeq.Api.Endpoints;

/// <summary>The read endpoints: a user's sequence, an item's knowledge, similar items.</summary>
public static class FeatureEndpoints
{
    /// <summary>GET /v1/users/{id}/sequence: the observed window, the gaps with reasons, the fills with nearest items.</summary>
    public static async Task<IResult> SequenceAsync(string id, [FromQuery(Name = "include_vectors")] bool? includeVectors, FeatureStore store, ApiOptions options, CancellationToken ct)
    {
        if (Ids.Invalid(id, options, "user id") is { } bad) return bad;
        // Read through to PostgreSQL: this endpoint shows the stored state as it is now, not the score path's cache.
        var user = await store.LoadUserAsync(id, ct);
        if (!user.Known) return Problems.Result(StatusCodes.Status404NotFound, "Unknown user", $"The platform holds no clicks, sequence or fills for user '{id}'.");
        var window = user.Sequence?.Window.Select((e, i) => new WindowEntryView(i, e.ItemId, e.TsMs, e.Category)).ToList()
            // Before the sequence role's first update: the retained clicks' tail, without categories.
            ?? [.. user.History.Select((item, i) => new WindowEntryView(i, item, user.HistoryTsMs[i], "")).TakeLast(50)];
        var gaps = user.Sequence?.Gaps.Select(g => new GapView(g.Position, g.Reasons.Select(r => r.ToString()).ToList(), g.DeltaMs, g.ThresholdMs,
            g.PrevCategory, g.NextCategory, g.Rank)).ToList() ?? [];
        var fills = user.Augmented?.Filled.Select(f => new FillView(f.Position, f.Nearest.Select(n => new NearestView(n.ItemId, n.Score)).ToList(),
            includeVectors == true ? f.Vector : null)).ToList() ?? [];
        return Results.Ok(new SequenceView(id, user.History.Count, user.Sequence?.SequenceVersion, user.Sequence?.Variant, window, gaps,
            user.Augmented?.ModelVersion, fills));
    }

    /// <summary>GET /v1/items/{id}/knowledge.</summary>
    public static async Task<IResult> KnowledgeAsync(string id, [FromQuery(Name = "include_vector")] bool? includeVector, FeatureStore store, ApiOptions options, CancellationToken ct)
    {
        if (Ids.Invalid(id, options, "item id") is { } bad) return bad;
        var row = await store.LoadKnowledgeAsync(id, ct);
        if (row is null) return Problems.Result(StatusCodes.Status404NotFound, "Unknown item", $"No knowledge has been derived for item '{id}' (unknown, or not reasoned about yet).");
        return Results.Ok(new KnowledgeView(row.ItemId, row.Category, row.CategoryAssigned, row.Demand.Select(View).ToList(), row.Attribute.Select(View).ToList(),
            row.SemanticId, row.Vector.Length, includeVector == true ? row.Vector : null,
            new KnowledgeVersions(row.SemanticIdVersion, row.TaxonomyVersion, row.PromptVersion, row.Backend, row.Encoder), row.ContentHash, row.TsMs));
    }

    /// <summary>GET /v1/items/{id}/similar?k=: nearest items by knowledge vector.</summary>
    public static async Task<IResult> SimilarAsync(string id, int? k, SimilarityIndex index, ApiOptions options, CancellationToken ct)
    {
        if (Ids.Invalid(id, options, "item id") is { } bad) return bad;
        var count = k ?? 10;
        if (count < 1 || count > options.MaxSimilar)
            return Problems.Result(StatusCodes.Status400BadRequest, "Bad k", $"k must be between 1 and {options.MaxSimilar} (got {count}).");
        if (!index.Ready)
            return Problems.Result(StatusCodes.Status503ServiceUnavailable, "Index loading", "The similarity index is still loading item vectors; retry shortly.");
        var hits = await index.SimilarAsync(id, count, ct);
        if (hits is null) return Problems.Result(StatusCodes.Status404NotFound, "Unknown item", $"Item '{id}' has no knowledge vector.");
        return Results.Ok(new SimilarView(id, count, hits.Select(h => new SimilarItemView(h.Id, h.Score, h.Payload.GetValueOrDefault("category", ""))).ToList()));
    }

    private static DimensionView View(DimensionRow d) => new(d.Label, d.Keywords, d.Evidence, d.Analysis);
}
