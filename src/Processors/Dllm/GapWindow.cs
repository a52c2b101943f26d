using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;

namespace ReaSeq.Processors.Dllm;

/// <summary>
/// One SequenceUpdate as the tiny LLaDA sees it (paper §3.2.1): the observed window, the labeled positions
/// (observed items whose Δ exceeded θ: self-supervised [FILL] targets) and the unlabeled gaps. A gap at position i
/// is a [FILL] inserted before window item i (the transition into item i was judged discontinuous, §3.1).
/// </summary>
public sealed record GapWindow(string UserId, long SequenceVersion, IReadOnlyList<string> Items, IReadOnlyList<int> Labeled, IReadOnlyList<int> Gaps, long TsMs)
{
    /// <summary>Model positions: every item plus one [FILL] per gap.</summary>
    public int TokenCount => Items.Count + Gaps.Count;

    /// <summary>
    /// Checks an update and returns its window; throws <see cref="ContractException"/> (error class validation) with
    /// the reason for what the role cannot fill: an empty or oversized window, positions outside the window.
    /// </summary>
    public static GapWindow From(SequenceUpdate update, int maxWindow, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (string.IsNullOrEmpty(update.UserId)) throw Invalid("user_id is empty");
        if (update.Window.Count == 0) throw Invalid("the window is empty");
        if (update.Window.Count > maxWindow) throw Invalid($"the window holds {update.Window.Count} items, limit {maxWindow} (oversized)");
        var items = update.Window.Select(e => e.ItemId).ToList();
        if (items.Any(string.IsNullOrEmpty)) throw Invalid("a window entry has an empty item_id");
        var gaps = Positions(update.Gaps.Select(g => g.Position), items.Count, "gap");
        var labeled = Positions(update.LabeledPositions.Select(l => l.Position), items.Count, "labeled");
        if (items.Count + gaps.Count > maxTokens)
            throw Invalid($"{items.Count} items and {gaps.Count} gaps make {items.Count + gaps.Count} positions, the model's limit is {maxTokens} (oversized)");
        return new GapWindow(update.UserId, update.SequenceVersion, items, labeled, gaps, update.TsMs);
    }

    private static List<int> Positions(IEnumerable<int> positions, int count, string what)
    {
        var sorted = positions.Order().ToList();
        for (int i = 0; i < sorted.Count; i++)
        {
            if (sorted[i] < 0 || sorted[i] >= count) throw Invalid($"{what} position {sorted[i]} lies outside the window of {count} items");
            if (i > 0 && sorted[i] == sorted[i - 1]) throw Invalid($"{what} position {sorted[i]} appears twice");
        }
        return sorted;
    }

    private static ContractException Invalid(string reason) => new(ErrorClasses.Validation, $"dllm: {reason}");
}
