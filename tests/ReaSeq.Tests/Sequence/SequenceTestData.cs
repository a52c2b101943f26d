using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Tests.Sequence;

/// <summary>Builders for models and click streams used across the sequence tests.</summary>
internal static class SequenceTestData
{
    public static string Item(int index) => $"item-{index}";

    /// <summary>
    /// A model trained on random sessions over items 0..knownItems−1, where each session stays mostly in a
    /// block of 5 consecutive items, so rows are uneven and ranks meaningful.
    /// </summary>
    public static SwingCooccurrenceModel TrainedModel(int knownItems, int seed, SwingModelOptions? options = null, int users = 40, int clicksPerUser = 25)
    {
        var model = new SwingCooccurrenceModel(options ?? new SwingModelOptions { MaxNeighbours = 8, TopNeighbours = 5, CoOccurrenceWindow = 3, CacheRefreshEvery = 3 });
        var random = new Random(seed);
        var time = 0L;
        for (var u = 0; u < users; u++)
        {
            var history = new List<int>();
            var block = random.Next(knownItems);
            for (var n = 1; n <= clicksPerUser; n++)
            {
                if (random.NextDouble() < 0.15) block = random.Next(knownItems);
                var item = (block + random.Next(5)) % knownItems;
                time += random.Next(1, 1000);
                var window = history.Skip(Math.Max(0, history.Count - model.LearningWindow)).ToArray();
                history.Add(model.Learn(window, Item(item), time, n));
            }
        }
        return model;
    }

    /// <summary>
    /// A click stream from generated steps (user, item, category, kind, magnitude):
    /// kind 0 → same timestamp; 1-4, 8, 9 → forward by magnitude (kind 4: ×10); 5-6 → backwards by
    /// magnitude (out of order, inside or beyond tolerance); 7 → re-delivery of an earlier click of the user.
    /// Category 4 means unknown; items ≥ knownItems are unknown to a model trained on 0..knownItems−1.
    /// </summary>
    public static List<SequenceClick> Stream((int User, int Item, int Category, int Kind, int Magnitude)[] steps)
    {
        var clicks = new List<SequenceClick>();
        var newest = new Dictionary<int, long>();
        var perUser = new Dictionary<int, List<SequenceClick>>();
        for (var n = 0; n < steps.Length; n++)
        {
            var (user, item, category, kind, magnitude) = steps[n];
            var last = newest.GetValueOrDefault(user, 100_000);
            var sent = perUser.TryGetValue(user, out var list) ? list : perUser[user] = [];
            if (kind == 7 && sent.Count > 0)
            {
                clicks.Add(sent[magnitude % sent.Count]);
                continue;
            }
            var timestamp = kind switch
            {
                0 => last,
                4 => last + magnitude * 10L,
                5 or 6 => last - magnitude,
                _ => last + magnitude,
            };
            var click = new SequenceClick($"u{user}", $"e{n}", Item(item), timestamp, category == 4 ? null : $"cat-{category}");
            newest[user] = Math.Max(last, timestamp);
            sent.Add(click);
            clicks.Add(click);
        }
        return clicks;
    }

    public static SequenceClick Click(string user, string eventId, int item, long timestampMs, string? category = "a", string domain = "") =>
        new(user, eventId, Item(item), timestampMs, category, domain);
}
