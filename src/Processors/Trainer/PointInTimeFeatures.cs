using ReaSeq.Contracts;
using ReaSeq.Models.Ctr;

namespace ReaSeq.Processors.Trainer;

/// <summary>
/// Builds one training example from state strictly older than its impression (issue 10 §2): the user's clicks with
/// ts &lt; the impression's ts, the newest augmented sequence with ts &lt; it, item vectors, semantic ids and catalog
/// entries that existed before it, and the candidate's clicks before it. Nothing at or after the impression's time
/// can reach the features, so a later click never changes them.
/// </summary>
public static class PointInTimeFeatures
{
    /// <param name="impression">The labeled impression.</param>
    /// <param name="clicks">The user's clicks in sequence order (any extent; later ones are ignored here).</param>
    /// <param name="augmented">The user's augmented sequences (any order; later ones are ignored here).</param>
    /// <param name="item">Item lookup (null for an item the platform does not know).</param>
    /// <param name="popularityBefore">Clicks the candidate received strictly before the impression.</param>
    /// <param name="maxHistory">Newest observed clicks kept.</param>
    public static CtrExample Build(
        LabeledImpression impression,
        IReadOnlyList<UserClick> clicks,
        IReadOnlyList<AugmentedRecord>? augmented,
        Func<string, ItemFeatures?> item,
        long popularityBefore,
        int maxHistory)
    {
        ArgumentNullException.ThrowIfNull(impression);
        ArgumentNullException.ThrowIfNull(clicks);
        ArgumentNullException.ThrowIfNull(item);
        long at = impression.TsMs;
        var before = clicks.Where(c => c.TsMs < at).ToList();
        int start = Math.Max(0, before.Count - maxHistory);

        // Observed history: known vectors only; remember each kept entry's index in `before` to place fills.
        var vectors = new List<float[]>();
        var sids = new List<int[]?>();
        var kept = new List<int>();
        for (int i = start; i < before.Count; i++)
        {
            var features = item(before[i].ItemId);
            if (Known(features, at) is not { } known) continue;
            vectors.Add(known.Vector!);
            sids.Add(known.SemanticId);
            kept.Add(i);
        }

        List<CtrFill>? fills = null;
        if (augmented is not null && augmented.Where(a => a.TsMs < at).MaxBy(a => a.TsMs) is { } latest)
        {
            // The augmented sequence covered the user's newest Observed.Count clicks as of its time: align its end
            // with the clicks at or before that time.
            int end = before.Count(c => c.TsMs <= latest.TsMs);
            int offset = end - latest.Observed.Count;
            fills = [];
            foreach (var fill in latest.Fills)
            {
                int index = offset + fill.Position;
                if (index < start || index > before.Count || fill.Vector.Length == 0) continue;
                fills.Add(new CtrFill(kept.Count(k => k < index), fill.Vector));
            }
        }

        var candidate = item(impression.ItemId);
        var knownCandidate = Known(candidate, at);
        bool catalogKnown = candidate is not null && candidate.CatalogTsMs < at;
        var user = new CtrUserFeatures(impression.UserId, vectors, sids, fills, before.Count);
        return new CtrExample(user, new CtrCandidate(
            impression.ItemId,
            knownCandidate?.Vector,
            knownCandidate?.SemanticId,
            catalogKnown ? candidate!.CategoryBucket : 0,
            catalogKnown ? candidate!.PriceBucket : 0,
            popularityBefore), impression.Label > 0 ? 1f : 0f);
    }

    private static ItemFeatures? Known(ItemFeatures? features, long at) =>
        features is { Vector: not null } && features.KnowledgeTsMs < at ? features : null;
}
