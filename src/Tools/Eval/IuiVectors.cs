using System.Globalization;
using System.Text.Json.Nodes;
using ReaSeq.Models.Representation;

namespace ReaSeq.Tools.Eval;

/// <summary>
/// "+ IUI" rows: the IUI adapter (paper §4.1.1) trained on pairs from the users' purchase sequences of the training
/// period only (strictly before the split), then applied to every item's base vector, including items first sold
/// after the split (the adapter is a function of the base vector, not an id table).
/// </summary>
public static class IuiVectors
{
    public static (IReadOnlyList<float[]?> Vectors, JsonObject Extra) Compute(
        IReadOnlyList<float[]?> baseVectors, EvalDataset data, EvalSplit split, IuiAdapterOptions options, string label)
    {
        var index = data.Items.Select((item, i) => (item.ItemId, i)).ToDictionary(p => p.ItemId, p => p.i, StringComparer.Ordinal);
        var pairs = IuiPairs.Build(split.Training.Select(t => new IuiEvent(t.UserId, index[t.ItemId], t.TsMs)), split.SplitTsMs, options.Window);
        if (pairs.LatestEventTsMs >= split.SplitTsMs) throw new InvalidOperationException("IUI pairs reach into the test period.");
        Console.Error.WriteLine($"eval {label}: {pairs.Count:N0} pairs (window {options.Window}) from {pairs.EventsUsed:N0} training purchases");
        var epochs = new List<IuiEpochReport>();
        using var model = new IuiTrainer(options).Train(baseVectors, pairs, e =>
        {
            epochs.Add(e);
            Console.Error.WriteLine($"eval {label}: epoch {e.Epoch}/{options.Epochs} loss {e.Loss:F4} ({e.PairsPerSecond:N0} pairs/s)");
        });
        var vectors = model.Adapt(baseVectors);
        var extra = new JsonObject
        {
            ["adapter_version"] = model.Version,
            ["iui_pairs"] = pairs.Count,
            ["iui_training_purchases"] = pairs.EventsUsed,
            ["iui_latest_pair_event_utc"] = DateTimeOffset.FromUnixTimeMilliseconds(pairs.LatestEventTsMs).ToString("u", CultureInfo.InvariantCulture),
            ["iui_window"] = options.Window,
            ["iui_temperature"] = options.Temperature,
            ["iui_hidden_dim"] = options.HiddenDim,
            ["iui_epochs"] = options.Epochs,
            ["iui_pairs_per_epoch"] = options.PairsPerEpoch,
            ["iui_batch_size"] = options.BatchSize,
            ["iui_learning_rate"] = options.LearningRate,
            ["iui_epoch_loss"] = new JsonArray(epochs.Select(e => (JsonNode)Math.Round(e.Loss, 4)).ToArray()),
            ["iui_train_s"] = Math.Round(epochs.Sum(e => e.Seconds), 1),
            ["iui_train_pairs_per_s"] = Math.Round(epochs.Sum(e => e.Pairs) / Math.Max(epochs.Sum(e => e.Seconds), 1e-9), 0),
        };
        return (vectors, extra);
    }
}
