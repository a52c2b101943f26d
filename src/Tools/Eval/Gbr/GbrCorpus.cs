using System.Numerics.Tensors;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>
/// Everything the GBR evaluation reads from one data set: the item vector table, the held-out users, and every
/// user's sequence with its gap and label decisions.
/// </summary>
public sealed class GbrCorpus
{
    private readonly Dictionary<string, int> _rows;

    private GbrCorpus(IReadOnlyList<EvalItem> items, float[][] table, Dictionary<string, int> rows, GbrDetection detection,
        IReadOnlySet<string> heldOut, int collaborativeItems)
    {
        Items = items;
        Table = table;
        _rows = rows;
        Detection = detection;
        HeldOut = heldOut;
        CollaborativeItems = collaborativeItems;
    }

    public IReadOnlyList<EvalItem> Items { get; }

    /// <summary>Unit item vectors, one row per item (a zero row for an item without a vector, which is never used).</summary>
    public float[][] Table { get; }

    public GbrDetection Detection { get; }

    public IReadOnlySet<string> HeldOut { get; }

    /// <summary>Items known to the pre-trained collaborative model behind RANK and Δ.</summary>
    public int CollaborativeItems { get; }

    /// <summary>The table's rows, null for items without a vector (so that a search never returns them).</summary>
    public IReadOnlyList<float[]?> Searchable => [.. Items.Select((item, i) => RowOf(item.ItemId) == i ? Table[i] : null)];

    /// <summary>The row of an item that has a vector, else -1.</summary>
    public int RowOf(string itemId) => _rows.TryGetValue(itemId, out var row) ? row : -1;

    /// <param name="items"></param>
    /// <param name="vectors">Aligned with <paramref name="items"/>; null: the item has no vector.</param>
    /// <param name="clicks">Time-ordered clicks with each item's primary category.</param>
    /// <param name="options"></param>
    /// <param name="ct"></param>
    public static GbrCorpus Build(IReadOnlyList<EvalItem> items, IReadOnlyList<float[]?> vectors, IReadOnlyList<SequenceClick> clicks, GbrOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(clicks);
        ArgumentNullException.ThrowIfNull(options);
        int dim = vectors.FirstOrDefault(v => v is not null)?.Length ?? throw new ArgumentException("No item has a vector.");
        var table = new float[items.Count][];
        var rows = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            table[i] = new float[dim];
            if (vectors[i] is not { } v) continue;
            float norm = TensorPrimitives.Norm(v);
            if (!(norm > 0) || !float.IsFinite(norm)) continue;
            TensorPrimitives.Divide(v, norm, table[i]);
            rows[items[i].ItemId] = i;
        }

        var heldOut = clicks.Select(c => c.UserId).Where(u => GbrWindowBuilder.IsHeldOut(u, options.HoldOut)).ToHashSet(StringComparer.Ordinal);
        // §3.2.1 "any pre-trained recommender": one Swing model over the training users' clicks, frozen while detecting,
        // so the held-out users' own clicks never shape the model that labels them.
        var model = SwingModelTrainer.Train(clicks.Where(c => !heldOut.Contains(c.UserId)).Select(c => new TrainingClick(c.UserId, c.ItemId, c.TimestampMs)),
            new SwingModelOptions(), ct);
        var detectorOptions = new SequenceDetectorOptions { LearnOnline = false, LabelThreshold = options.LabelThreshold, Variant = options.RecoveryVariant };
        var detection = GbrDetection.Run(clicks, detectorOptions, model, ct);
        return new GbrCorpus(items, table, rows, detection, heldOut, model.ItemCount);
    }

    /// <summary>
    /// Windows of the training users (a seeded sample of at most <paramref name="limit"/>) or of the held-out users
    /// (the first <paramref name="limit"/> in user order). The sample picks the same events for every variant.
    /// </summary>
    public List<GbrWindow> Windows(DetectionVariant? fills, bool heldOut, int eventsPerWindow, int limit, int seed, bool requireLabel = true, bool overlapping = false)
    {
        var windows = Detection.Users.Where(u => HeldOut.Contains(u.UserId) == heldOut)
            .SelectMany(u => GbrWindowBuilder.Build(u, fills, eventsPerWindow, RowOf, requireLabel, overlapping))
            .ToList();
        if (limit <= 0 || windows.Count <= limit) return windows;
        if (heldOut) return windows.Take(limit).ToList();
        var order = Enumerable.Range(0, windows.Count).ToArray();
        new Random(seed).Shuffle(order);
        return order.Take(limit).Order().Select(i => windows[i]).ToList();
    }
}
