using System.Numerics.Tensors;
using ReaSeq.Models.Dllm;
using ReaSeq.Models.Ctr;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;
using ReaSeq.Processors.Trainer;
using ReaSeq.Tools.Eval.Gbr;
using static TorchSharp.torch;

namespace ReaSeq.Tools.Eval;

/// <summary>
/// Paper Table 6 (§4.2.4): the CTR base model fed the GBR-extended sequence instead of the observed one. The fills come
/// from a real <see cref="LladaTiny"/> trained as `eval gbr` trains it, but only on the purchases before the CTR split,
/// and every fill an impression sees is inferred from that user's purchases strictly before the impression (and gap
/// decisions made when those purchases arrived), so nothing at or after the impression reaches its features.
/// </summary>
public static class CtrTable6
{
    /// <summary>The rows run here: Table 6's Eq. 7 models on TD and on CD gaps.</summary>
    public static readonly IReadOnlyList<(string Name, DetectionVariant Variant, LladaLoss Loss)> Rows =
    [
        ("GBR-T-0", DetectionVariant.Temporal, LladaLoss.SampledSoftmax),
        ("GBR-C-0", DetectionVariant.Category, LladaLoss.SampledSoftmax),
    ];

    /// <summary>Paper Table 6: AUC and GAUC of each row (GBR-C-1, the cosine-loss model, is not run here).</summary>
    public static readonly IReadOnlyList<(string Name, double Auc, double Gauc)> Paper =
    [
        ("base", 0.7495, 0.6176),
        ("GBR-T-0", 0.7508, 0.628),
        ("GBR-C-1", 0.7491, 0.618),
        ("GBR-C-0", 0.7513, 0.6284),
    ];

    /// <summary>
    /// Gap and label decisions for every purchase (§3.1, §3.2.1): one <see cref="SequenceDetector"/> pass in time order,
    /// so the temporal threshold T (an online quantile sketch) and each decision only depend on purchases up to that
    /// one. Δ comes from a Swing model trained on the purchases before <paramref name="splitTs"/>: neither the labels
    /// nor anything else the DLLM learns from reaches into the held-out period.
    /// </summary>
    public static GbrDetection Detect(IReadOnlyList<SequenceClick> clicks, long splitTs, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(clicks);
        var model = SwingModelTrainer.Train(
            clicks.Where(c => c.TimestampMs < splitTs).Select(c => new TrainingClick(c.UserId, c.ItemId, c.TimestampMs)), new SwingModelOptions(), ct);
        return GbrDetection.Run(clicks, new SequenceDetectorOptions { LearnOnline = false }, model, ct);
    }

    /// <summary>Unit item vectors, one row per item of <paramref name="vectors"/> (a zero row where none), and the row of an item that has one.</summary>
    public static (float[][] Table, Dictionary<string, int> Rows) Table(IReadOnlyDictionary<string, float[]> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        var ids = vectors.Keys.Order(StringComparer.Ordinal).ToList();
        var table = new float[ids.Count][];
        var rows = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < ids.Count; i++)
        {
            var v = vectors[ids[i]];
            table[i] = new float[v.Length];
            float norm = TensorPrimitives.Norm(v);
            if (!(norm > 0) || !float.IsFinite(norm)) continue;
            TensorPrimitives.Divide(v, norm, table[i]);
            rows[ids[i]] = i;
        }
        return (table, rows);
    }

    /// <summary>
    /// Trains one row's LLaDA on the training period: every user's purchases before <paramref name="splitTs"/>, cut into
    /// windows of <paramref name="windowEvents"/> purchases with a [FILL] at each <paramref name="variant"/> gap
    /// (<see cref="GbrWindowBuilder"/>), at most <see cref="CtrTable6Options.MaxTrainWindows"/> of them.
    /// </summary>
    public static (LladaTiny Model, int Windows, int Steps, double Seconds) TrainDllm(GbrDetection detection, long splitTs, DetectionVariant variant,
        LladaLoss loss, float[][] table, Func<string, int> rowOf, int windowEvents, CtrTable6Options options, string label, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(detection);
        ArgumentNullException.ThrowIfNull(options);
        var windows = detection.Users
            .Select(u => new GbrUserSequence(u.UserId, u.Events.Where(e => e.TsMs < splitTs).ToList()))
            .SelectMany(u => GbrWindowBuilder.Build(u, variant, windowEvents, rowOf))
            .ToList();
        if (options.MaxTrainWindows > 0 && windows.Count > options.MaxTrainWindows)
        {
            var order = Enumerable.Range(0, windows.Count).ToArray();
            new Random(options.Seed).Shuffle(order);
            windows = order.Take(options.MaxTrainWindows).Order().Select(i => windows[i]).ToList();
        }
        int batch = Math.Min(options.BatchSize, windows.Count);
        if (batch < 2) throw new ArgumentException($"{label}: {windows.Count} training windows with a labeled position before the split; at least 2 are needed.");
        var settings = new LladaTinyOptions
        {
            Layers = options.Layers,
            ModelDim = options.ModelDim,
            Heads = options.Heads,
            ItemVectorDim = table[0].Length,
            // One [FILL] per transition at most: a window of E purchases has at most 2E − 1 positions.
            MaxLength = 2 * windowEvents,
            WarmupSteps = options.WarmupSteps,
            LearningRate = options.LearningRate,
            Loss = loss,
            Device = "cpu",
        };
        var (model, _, steps, seconds) = GbrModelRun.Train(windows, table, settings, options.Epochs, batch, options.Seed, label, ct);
        return (model, windows.Count, steps, seconds);
    }

    /// <summary>
    /// The point-in-time input of a fill as of <paramref name="atMs"/>: the user's newest <paramref name="history"/>
    /// purchases strictly before it (as the CTR history takes them), each shown as observed (at inference, §3.2.3,
    /// labeled positions show their items anyway), with an unlabeled [FILL] before each purchase a
    /// <paramref name="variant"/> gap leads into (not before the window's first, which has no left context). Returns
    /// null when no such purchase has a vector. <c>Events</c> of the window index the returned observed list.
    /// </summary>
    public static (GbrWindow? Window, List<GbrEvent> Observed) InferenceWindow(IReadOnlyList<GbrEvent> events, long atMs, DetectionVariant variant,
        int history, Func<string, int> rowOf)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(rowOf);
        int before = CountBefore(events, atMs);
        int start = Math.Max(0, before - history);
        var observed = new List<GbrEvent>(before - start);
        for (int j = start; j < before; j++) observed.Add(events[j]);
        var items = new List<int>();
        var kinds = new List<PositionKind>();
        var indices = new List<int>();
        for (int j = 0; j < observed.Count; j++)
        {
            int row = rowOf(observed[j].ItemId);
            if (row < 0) continue;
            if (items.Count > 0 && observed[j].IsGap(variant))
            {
                items.Add(-1);
                kinds.Add(PositionKind.UnlabeledFill);
                indices.Add(j);
            }
            items.Add(row);
            kinds.Add(PositionKind.Observed);
            indices.Add(j);
        }
        if (items.Count == 0) return (null, observed);
        return (new GbrWindow("", [.. items], [.. kinds], [.. indices], new bool[items.Count]), observed);
    }

    /// <summary>Purchases of a time-ordered list strictly before <paramref name="atMs"/>.</summary>
    public static int CountBefore(IReadOnlyList<GbrEvent> events, long atMs)
    {
        ArgumentNullException.ThrowIfNull(events);
        int lo = 0, hi = events.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (events[mid].TsMs < atMs) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>
    /// The augmented sequence (issue 7's record) each (user, moment) would have had: fills inferred by
    /// <paramref name="model"/> from <see cref="InferenceWindow"/> alone, batched over distinct states (a user's moments
    /// with the same purchases before them share one). Keyed by (user, purchases before the moment); a state without
    /// purchases or without a [FILL] has no record.
    /// </summary>
    public static Dictionary<(string User, int Before), AugmentedRecord> Fill(LladaTiny model, float[][] table, Func<string, int> rowOf,
        IReadOnlyDictionary<string, IReadOnlyList<GbrEvent>> events, IEnumerable<(string User, long AtMs)> moments, DetectionVariant variant, int history,
        string modelVersion, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(moments);
        var pending = new List<((string, int) Key, GbrWindow Window, List<GbrEvent> Observed)>();
        var seen = new HashSet<(string, int)>();
        foreach (var (user, at) in moments)
        {
            if (!events.TryGetValue(user, out var list)) continue;
            var key = (user, CountBefore(list, at));
            if (key.Item2 == 0 || !seen.Add(key)) continue;
            var (window, observed) = InferenceWindow(list, at, variant, history, rowOf);
            if (window is null || window.Fills == 0) continue;
            pending.Add((key, window, observed));
        }
        var result = new Dictionary<(string, int), AugmentedRecord>();
        const int chunkSize = 256;
        for (int s = 0; s < pending.Count; s += chunkSize)
        {
            ct.ThrowIfCancellationRequested();
            var chunk = pending.GetRange(s, Math.Min(chunkSize, pending.Count - s));
            using var scope = NewDisposeScope();
            using var batch = GbrBatch.Create(chunk.Select(c => c.Window).ToList(), table, withEvalMask: false, model.Device);
            using var fills = model.Fill(batch);
            var flat = fills.Vectors.cpu().data<float>().ToArray();
            var rows = fills.Sequences.cpu().data<long>().ToArray();
            var positions = fills.Positions.cpu().data<long>().ToArray();
            int dim = (int)fills.Vectors.shape[1];
            var perRow = new List<CtrFill>[chunk.Count];
            for (int f = 0; f < rows.Length; f++)
            {
                int row = (int)rows[f];
                var window = chunk[row].Window;
                // A [FILL] precedes the observed purchase its window index names.
                (perRow[row] ??= []).Add(new CtrFill(window.Events[(int)positions[f]], flat.AsSpan(f * dim, dim).ToArray()));
            }
            for (int r = 0; r < chunk.Count; r++)
            {
                var observed = chunk[r].Observed;
                result[chunk[r].Key] = new AugmentedRecord(observed[^1].TsMs, modelVersion, observed.Select(e => e.ItemId).ToList(), perRow[r] ?? []);
            }
        }
        return result;
    }
}
