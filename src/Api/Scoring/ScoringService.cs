using ReaSeq.Api.Dto;
using ReaSeq.Api.Features;
using ReaSeq.Models.Ctr;

namespace ReaSeq.Api.Scoring;

/// <summary>
/// POST /v1/score's work: one model lease per request, the user's features and the candidates' features from the
/// cache (PostgreSQL behind it), then the model in two steps (paper §2.2.1, "System Deployment and Optimization"): the
/// user step (history projections, each distinct history item once; the compression anchors over the full sequence;
/// the GSU's unit vectors; user features) once per user, cached in <see cref="UserStateCache"/> per user, feature
/// version and model version, and the candidate step, the candidates in batches against that state. Requests run both
/// steps on <see cref="ScoringWorkers"/> (dedicated threads, a request's candidates split across them).
/// </summary>
public sealed class ScoringService(FeatureCache features, CtrModelHolder holder, UserStateCache userStates, ScoringWorkers workers, ApiMetrics metrics)
{
    public const string Scored = "scored";
    public const string ContentOnly = "content_only";
    public const string UnknownItem = "unknown_item";

    /// <summary>The response, or null when no model version is loaded yet.</summary>
    public async Task<ScoreResponse?> ScoreAsync(string userId, IReadOnlyList<string> candidateIds, CancellationToken ct)
    {
        if (holder.Acquire() is not { } acquired) return null;
        using var lease = acquired;
        var prepared = await PrepareAsync(userId, candidateIds, lease.Model, ct);
        return await ScoreAsync(lease.Model, prepared);
    }

    /// <summary>
    /// As <see cref="PrepareAsync(string, IReadOnlyList{string}, CtrModelOptions, CancellationToken)"/>, reusing the
    /// model's user-side input cached with the user's state for <paramref name="model"/>'s version.
    /// </summary>
    public Task<PreparedRequest> PrepareAsync(string userId, IReadOnlyList<string> candidateIds, ServingModel model, CancellationToken ct) =>
        PrepareAsync(userId, candidateIds, model.Options, ct, model.Version);

    /// <summary>Features of the user and the candidates, from the cache (PostgreSQL behind it), shaped for the model.</summary>
    public Task<PreparedRequest> PrepareAsync(string userId, IReadOnlyList<string> candidateIds, CtrModelOptions options, CancellationToken ct) =>
        PrepareAsync(userId, candidateIds, options, ct, null);

    private async Task<PreparedRequest> PrepareAsync(string userId, IReadOnlyList<string> candidateIds, CtrModelOptions options, CancellationToken ct,
        string? modelVersion)
    {
        var user = await features.GetUserAsync(userId, ct);
        var userFeatures = (modelVersion is null ? null : userStates.FeaturesOf(user, modelVersion)) ?? await BuildUserAsync(user, options, ct);
        var items = await features.GetItemsAsync(candidateIds, ct);
        var candidates = new List<CtrCandidate>(items.Length);
        var statuses = new string[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            if (item.Unknown)
            {
                statuses[i] = UnknownItem;
                continue;
            }
            // An item without knowledge yet (or of another vector width) takes the content-only path: category, price
            // and popularity, the model's "target unknown" input.
            var usable = item.Vector is { } v && v.Length == options.ItemVectorDim;
            statuses[i] = usable ? Scored : ContentOnly;
            candidates.Add(new CtrCandidate(item.ItemId, usable ? item.Vector : null, usable ? item.SemanticId : null,
                item.CategoryBucket, item.PriceBucket, item.Popularity));
        }
        return new PreparedRequest(user, userFeatures, candidates, items, statuses);
    }

    /// <summary>
    /// The user's state (cached, or encoded now and cached), then the candidate step over the prepared candidates, both
    /// on the scoring threads: the candidates in parts, one per scoring thread (<see cref="ScoringWorkers.Split"/>).
    /// </summary>
    public async Task<ScoreResponse> ScoreAsync(ServingModel model, PreparedRequest prepared)
    {
        float[] ctrs = [];
        var candidates = prepared.Candidates;
        if (candidates.Count > 0)
        {
            var state = userStates.TryAcquire(prepared.User, model.Version)
                ?? userStates.Add(prepared.User, model.Version, prepared.Features, await workers.RunAsync(() => model.Scorer.EncodeUser(prepared.Features)));
            try
            {
                // A cached state was encoded from the same feature instance and model version, so from equal inputs.
                ctrs = await workers.ScoreInPartsAsync(candidates.Count, (start, length) =>
                    model.Scorer.Score(state.State, length == candidates.Count ? candidates : candidates.Skip(start).Take(length).ToList()));
            }
            finally
            {
                state.Release();
            }
        }
        return Respond(model, prepared, ctrs);
    }

    /// <summary>As <see cref="ScoreAsync(ServingModel, PreparedRequest)"/> on the calling thread, every candidate in one batch.</summary>
    public ScoreResponse Score(ServingModel model, PreparedRequest prepared)
    {
        float[] ctrs = [];
        if (prepared.Candidates.Count > 0)
        {
            var state = userStates.TryAcquire(prepared.User, model.Version)
                ?? userStates.Add(prepared.User, model.Version, prepared.Features, model.Scorer.EncodeUser(prepared.Features));
            try
            {
                ctrs = model.Scorer.Score(state.State, prepared.Candidates);
            }
            finally
            {
                state.Release();
            }
        }
        return Respond(model, prepared, ctrs);
    }

    private ScoreResponse Respond(ServingModel model, PreparedRequest prepared, float[] ctrs)
    {
        var scores = new ScoredCandidate[prepared.Items.Count];
        for (int i = 0, next = 0; i < scores.Length; i++)
        {
            var status = prepared.Statuses[i];
            scores[i] = new ScoredCandidate(prepared.Items[i].ItemId, status == UnknownItem ? null : ctrs[next++], status);
            metrics.Candidates.Add(1, new KeyValuePair<string, object?>("status", status));
        }
        return new ScoreResponse(model.Version, prepared.User.UserId, prepared.User.Known ? "known" : "cold_start", prepared.Features.History.Count,
            prepared.Features.Fills?.Count ?? 0, scores);
    }

    /// <summary>
    /// The model's user side: knowledge vectors and semantic ids of the newest history items (the model reads at most
    /// MaxHistory sequence positions, so older ones are not fetched), the fills mapped onto that history, and the
    /// user's click count. Items without a vector of the model's width are left out, as the model asks.
    /// </summary>
    public async Task<CtrUserFeatures> BuildUserAsync(UserFeatures user, CtrModelOptions options, CancellationToken ct)
    {
        if (!user.Known) return new CtrUserFeatures(user.UserId, [], null, null, 0);
        var from = Math.Max(0, user.History.Count - options.MaxHistory);
        var ids = user.History.Skip(from).ToList();
        var items = await features.GetItemsAsync(ids, ct);
        var vectors = new List<float[]>(items.Length);
        var sids = new List<int[]?>(items.Length);
        // kept[i]: history items (of the fetched tail) before tail index i that the model sees.
        var kept = new int[items.Length + 1];
        for (var i = 0; i < items.Length; i++)
        {
            kept[i] = vectors.Count;
            if (items[i].Vector is { } v && v.Length == options.ItemVectorDim)
            {
                vectors.Add(v); // the cached array itself: the model de-duplicates sequence items by instance
                sids.Add(items[i].SemanticId);
            }
        }
        kept[items.Length] = vectors.Count;

        List<CtrFill>? fills = null;
        if (user.Augmented is { Filled.Count: > 0 } augmented)
        {
            // Fill positions index the augmented record's observed window: the user's newest clicks as of its time
            // (aligned as the trainer aligns them, so a fill lands where the model learnt it).
            var end = 0;
            while (end < user.HistoryTsMs.Count && user.HistoryTsMs[end] <= augmented.TsMs) end++;
            var windowStart = end - augmented.Observed.Count;
            foreach (var fill in augmented.Filled)
            {
                if (fill.Vector.Count != options.ItemVectorDim) continue;
                var historyIndex = Math.Clamp(windowStart + fill.Position, 0, user.History.Count);
                if (historyIndex < from) continue; // before the part of the history the model reads
                (fills ??= []).Add(new CtrFill(kept[historyIndex - from], [.. fill.Vector]));
            }
        }
        return new CtrUserFeatures(user.UserId, vectors, sids, fills, user.History.Count);
    }
}
