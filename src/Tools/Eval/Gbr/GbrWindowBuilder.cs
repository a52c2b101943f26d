using ReaSeq.Models.Dllm;
using ReaSeq.Processors.Sequence;

namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>
/// Cuts users' decided sequences into model inputs (paper §3.2.1 "Semi-Supervised Training Data Construction"):
/// a window holds <c>eventsPerWindow</c> consecutive events; a labeled event (Δ &gt; θ) becomes a labeled [FILL] whose
/// target is its item; a gap of the chosen variant inserts an unlabeled [FILL] before the event it leads into.
/// Windows are cut by events, not by positions, so every variant sees the same events in the same windows and the
/// evaluation masks (drawn per event) are identical across variants: only the [FILL] insertions differ.
/// </summary>
public static class GbrWindowBuilder
{
    /// <param name="user"></param>
    /// <param name="fills">The variant whose gaps get a [FILL]; null inserts none.</param>
    /// <param name="eventsPerWindow"></param>
    /// <param name="itemIndex">Row of an item in the vector table, or -1 when it has no vector (the event is left out).</param>
    /// <param name="requireLabel">Leave out windows without a labeled event: they have no [MASK] to learn or score.</param>
    /// <param name="overlapping">
    /// Consecutive windows share their boundary event (a stride of <paramref name="eventsPerWindow"/> − 1), so a gap into
    /// one window's first event gets its [FILL] as the previous window's last gap: every gap gets exactly one [FILL], with an
    /// event on both sides inside its window.
    /// </param>
    public static IEnumerable<GbrWindow> Build(GbrUserSequence user, DetectionVariant? fills, int eventsPerWindow, Func<string, int> itemIndex,
        bool requireLabel = true, bool overlapping = false)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(itemIndex);
        if (eventsPerWindow < 2) throw new ArgumentOutOfRangeException(nameof(eventsPerWindow), eventsPerWindow, "A window needs at least two events.");
        var events = new List<(int Event, int Item)>(user.Events.Count);
        for (int j = 0; j < user.Events.Count; j++)
        {
            int item = itemIndex(user.Events[j].ItemId);
            if (item >= 0) events.Add((j, item));
        }
        int stride = overlapping ? eventsPerWindow - 1 : eventsPerWindow;
        for (int start = 0; start < events.Count; start += stride)
        {
            int end = Math.Min(events.Count, start + eventsPerWindow);
            if (end - start < 2) yield break;
            var random = new Random(StableSeed(user.UserId, events[start].Event));
            double ratio = random.NextDouble();
            var items = new List<int>();
            var kinds = new List<PositionKind>();
            var indices = new List<int>();
            var mask = new List<bool>();
            int labeled = 0, firstLabeled = -1;
            for (int e = start; e < end; e++)
            {
                var (j, item) = events[e];
                var current = user.Events[j];
                // A gap into the window's first event has no left context inside the window: no [FILL] there.
                if (e > start && fills is { } variant && current.IsGap(variant))
                {
                    items.Add(-1);
                    kinds.Add(PositionKind.UnlabeledFill);
                    indices.Add(j);
                    mask.Add(false);
                }
                // The per-event draw happens for every event, so the masks do not depend on the variant.
                bool drawn = random.NextDouble() < ratio;
                items.Add(item);
                indices.Add(j);
                if (current.IsLabeled)
                {
                    if (firstLabeled < 0) firstLabeled = kinds.Count;
                    kinds.Add(PositionKind.LabeledFill);
                    mask.Add(drawn);
                    labeled++;
                }
                else
                {
                    kinds.Add(PositionKind.Observed);
                    mask.Add(false);
                }
            }
            if (labeled == 0 && requireLabel) continue;
            // Every scored window has at least one [MASK], as dynamic masking guarantees during training.
            if (labeled > 0 && !mask.Contains(true)) mask[firstLabeled] = true;
            yield return new GbrWindow(user.UserId, [.. items], [.. kinds], [.. indices], [.. mask]);
        }
    }

    /// <summary>FNV-1a of the user id and an event index: a seed that is the same in every process.</summary>
    public static int StableSeed(string userId, int salt)
    {
        uint hash = 2166136261u;
        foreach (char ch in userId) hash = (hash ^ ch) * 16777619u;
        hash = (hash ^ (uint)salt) * 16777619u;
        return (int)(hash & 0x7FFFFFFF);
    }

    /// <summary>Whether a user is held out from training: a stable hash, so the split is the same in every run.</summary>
    public static bool IsHeldOut(string userId, double fraction) => StableSeed(userId, 0) % 10_000 < fraction * 10_000;
}
