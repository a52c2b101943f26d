namespace ReaSeq.Processors.Sequence.Model;

/// <summary>One click of the whole stream, for training the global model.</summary>
public readonly record struct TrainingClick(string UserId, string ItemId, long TimestampMs);

/// <summary>
/// Trains the global collaborative model (issue 9 §1.4, paper §3.2.1 "any pre-trained recommender"): one Swing model
/// over the clicks of every user, fed in the order given (time order), each click learned after the user's last
/// L clicks exactly as the online model learns. Deterministic: the same clicks in the same order give the same
/// snapshot bytes.
/// </summary>
public static class SwingModelTrainer
{
    public static SwingCooccurrenceModel Train(IEnumerable<TrainingClick> clicks, SwingModelOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(clicks);
        var model = new SwingCooccurrenceModel(options);
        var window = model.LearningWindow;
        var users = new Dictionary<string, (int[] Recent, int Count, long Events)>(StringComparer.Ordinal);
        var preceding = new int[window];
        long n = 0;
        foreach (var click in clicks)
        {
            if ((++n & 0xFFFF) == 0) ct.ThrowIfCancellationRequested();
            if (string.IsNullOrEmpty(click.UserId) || string.IsNullOrEmpty(click.ItemId)) continue;
            var state = users.TryGetValue(click.UserId, out var s) ? s : (Recent: new int[window], Count: 0, Events: 0L);
            // The ring holds the user's last `window` items; copy them oldest first.
            var count = Math.Min(state.Count, window);
            for (var i = 0; i < count; i++) preceding[i] = state.Recent[(state.Count - count + i) % window];
            var index = model.Learn(preceding.AsSpan(0, count), click.ItemId, click.TimestampMs, state.Events + 1);
            state.Recent[state.Count % window] = index;
            users[click.UserId] = (state.Recent, state.Count + 1, state.Events + 1);
        }
        return model;
    }
}
