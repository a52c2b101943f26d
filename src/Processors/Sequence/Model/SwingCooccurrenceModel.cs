using System.Runtime.InteropServices;

namespace ReaSeq.Processors.Sequence.Model;

/// <summary>
/// Incremental, bounded item-item co-occurrence model in the spirit of Swing (Yang et al., 2020).
/// <para>
/// Exact Swing weighs an item pair (i, j) by Σ over user pairs (u, v) who both clicked i and j of
/// 1 / (α + |I_u ∩ I_v|), which needs every user pair's overlap and cannot be maintained per click.
/// This model approximates it: when a user clicks j, j co-occurs with the user's last L items i, and the
/// pair gains 1 / (sqrt(n_u) · (α + L_eff)), where n_u is the user's activity (Swing's user weight) and the
/// user-pair overlap damping is replaced by the size L_eff of the co-occurrence window the pair came from.
/// By default pairs are directed (i → j only, the direction next-item queries read); Symmetric restores
/// Swing's undirected weights.
/// Weights decay with a half-life in event time (kept as one global inflation factor, so no weight is ever
/// touched just to age it). Memory is bounded: each item keeps at most M neighbour weights (the smallest
/// are evicted), and queries read a per-item top-N cache of normalised neighbour weights, rebuilt after at
/// most R updates to that item.
/// </para>
/// Scoring: score(j | context) = Σ_k w_k · P_k(j) / Σ_k w_k over context items that have neighbours,
/// where P_k is item k's normalised top-N row and w_k = RecencyDecay^k (k = 0 for the newest item).
/// p(j | context) = (1 − ε) · score + ε / (V + 1); the extra slot keeps mass for never-seen items.
/// All orderings are total (weight, then item index), so results never depend on hash-table order and a
/// restored snapshot continues exactly like the original.
/// </summary>
public sealed class SwingCooccurrenceModel : ICollaborativeModel
{
    private const string Magic = "RSQM";
    private const int FormatVersion = 1;
    // Rescale the global inflation factor long before doubles could overflow.
    private const double MaxInflationExponent = 300;

    private readonly SwingModelOptions _options;
    private readonly double _decayPerMs;
    private readonly int _pruneAbove;

    private Dictionary<string, int> _indexOf = new(StringComparer.Ordinal);
    private List<string> _items = [];
    private Dictionary<int, double>?[] _weights = [];
    private int[][] _cacheIds = [];
    private double[][] _cacheProbabilities = [];
    private int[] _updatesSinceRefresh = [];
    private long _clockMs = long.MinValue;
    private long _epochMs;

    // Query scratch: dense scores stamped by generation so nothing needs clearing between queries.
    private double[] _scores = [];
    private int[] _stamps = [];
    private int _generation;
    private int[] _touched;
    private readonly double[] _sortKeys;
    private readonly int[] _sortIds;

    public SwingCooccurrenceModel(SwingModelOptions? options = null)
    {
        _options = options ?? new SwingModelOptions();
        _options.Validate();
        _decayPerMs = _options.HalfLifeMs is { } halfLife ? Math.Log(2) / halfLife : 0;
        _pruneAbove = _options.MaxNeighbours + Math.Max(4, _options.MaxNeighbours / 4);
        _touched = new int[64];
        _sortKeys = new double[_pruneAbove + 1];
        _sortIds = new int[_pruneAbove + 1];
    }

    public SwingModelOptions Options => _options;

    public int ItemCount => _items.Count;

    public int LearningWindow => _options.CoOccurrenceWindow;

    public int IndexOf(string itemId) => _indexOf.TryGetValue(itemId, out var index) ? index : -1;

    public string ItemAt(int index) => _items[index];

    public int Intern(string itemId)
    {
        ArgumentException.ThrowIfNullOrEmpty(itemId);
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_indexOf, itemId, out var exists);
        if (exists) return slot;
        slot = _items.Count;
        _items.Add(itemId);
        EnsureCapacity(_items.Count);
        return slot;
    }

    /// <summary>The current top-N row of an item (neighbour index → normalised weight), for inspection.</summary>
    public IReadOnlyList<KeyValuePair<int, double>> NeighboursOf(int index)
    {
        var ids = _cacheIds[index];
        var probabilities = _cacheProbabilities[index];
        var result = new KeyValuePair<int, double>[ids.Length];
        for (var i = 0; i < ids.Length; i++) result[i] = new(ids[i], probabilities[i]);
        return result;
    }

    /// <summary>Number of raw neighbour weights stored for an item (bounded by M plus a small eviction slack).</summary>
    public int StoredNeighbourCount(int index) => _weights[index]?.Count ?? 0;

    public Prediction Predict(ReadOnlySpan<int> context, int target)
    {
        var generation = NextGeneration();
        var touched = 0;
        var totalWeight = 0.0;
        var weight = 1.0;
        for (var k = context.Length - 1; k >= 0; k--, weight *= _options.RecencyDecay)
        {
            var item = context[k];
            if (item < 0) continue;
            var ids = _cacheIds[item];
            if (ids.Length == 0) continue;
            totalWeight += weight;
            var probabilities = _cacheProbabilities[item];
            if (_touched.Length < touched + ids.Length) Array.Resize(ref _touched, Math.Max(_touched.Length * 2, touched + ids.Length));
            for (var i = 0; i < ids.Length; i++)
            {
                var id = ids[i];
                if (_stamps[id] != generation)
                {
                    _stamps[id] = generation;
                    _scores[id] = 0;
                    _touched[touched++] = id;
                }
                _scores[id] += weight * probabilities[i];
            }
        }

        var targetScore = target >= 0 && _stamps[target] == generation ? _scores[target] : 0.0;
        var logProbability = SmoothedLog(targetScore, totalWeight);
        if (target < 0) return new(logProbability, Prediction.Unranked, RankStatus.UnknownItem);
        if (totalWeight == 0) return new(logProbability, Prediction.Unranked, RankStatus.NoContextEvidence);
        if (targetScore == 0) return new(logProbability, Prediction.Unranked, RankStatus.OutsideCandidates);

        var rank = 1;
        for (var i = 0; i < touched; i++)
            if (_scores[_touched[i]] > targetScore) rank++;
        return new(logProbability, rank, RankStatus.Ranked);
    }

    public double LogProbability(ReadOnlySpan<int> context, int target)
    {
        // Same terms, added in the same order as Predict, so both return bitwise-equal values.
        var targetScore = 0.0;
        var totalWeight = 0.0;
        var weight = 1.0;
        for (var k = context.Length - 1; k >= 0; k--, weight *= _options.RecencyDecay)
        {
            var item = context[k];
            if (item < 0) continue;
            var ids = _cacheIds[item];
            if (ids.Length == 0) continue;
            totalWeight += weight;
            if (target < 0) continue;
            var position = Array.BinarySearch(ids, target);
            if (position >= 0) targetScore += weight * _cacheProbabilities[item][position];
        }
        return SmoothedLog(targetScore, totalWeight);
    }

    public int Learn(ReadOnlySpan<int> preceding, string itemId, long timestampMs, long userEventCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(userEventCount, 1);
        var item = Intern(itemId);
        AdvanceClock(timestampMs);

        var window = preceding.Length > _options.CoOccurrenceWindow ? preceding[^_options.CoOccurrenceWindow..] : preceding;
        var partners = 0;
        foreach (var other in window) if (other >= 0) partners++;
        if (partners == 0) return item;

        var inflation = Math.Exp((_clockMs - _epochMs) * _decayPerMs);
        var increment = inflation / (Math.Sqrt(userEventCount) * (_options.Alpha + partners));
        foreach (var other in window)
        {
            if (other < 0) continue;
            AddWeight(other, item, increment);
            // A re-click within the window is learned once, as a self-transition.
            if (_options.Symmetric && other != item) AddWeight(item, other, increment);
        }
        return item;
    }

    private double SmoothedLog(double score, double totalWeight)
    {
        var uniform = 1.0 / (_items.Count + 1);
        if (totalWeight == 0) return Math.Log(uniform);
        return Math.Log((1 - _options.Smoothing) * (score / totalWeight) + _options.Smoothing * uniform);
    }

    private int NextGeneration()
    {
        if (++_generation == int.MaxValue)
        {
            Array.Clear(_stamps);
            _generation = 1;
        }
        return _generation;
    }

    private void AdvanceClock(long timestampMs)
    {
        if (_clockMs == long.MinValue)
        {
            _clockMs = _epochMs = timestampMs;
            return;
        }
        _clockMs = Math.Max(_clockMs, timestampMs);
        if ((_clockMs - _epochMs) * _decayPerMs <= MaxInflationExponent) return;

        // Bring every stored weight to the current epoch; rows stay proportional, so caches stay valid.
        var factor = Math.Exp(-(_clockMs - _epochMs) * _decayPerMs);
        _epochMs = _clockMs;
        for (var i = 0; i < _weights.Length; i++)
        {
            var row = _weights[i];
            if (row is null) continue;
            List<int>? vanished = null;
            foreach (var key in row.Keys.ToArray())
            {
                var scaled = row[key] * factor;
                if (scaled > 0) row[key] = scaled;
                else (vanished ??= []).Add(key);
            }
            if (vanished is not null) foreach (var key in vanished) row.Remove(key);
        }
    }

    private void AddWeight(int from, int to, double increment)
    {
        var row = _weights[from] ??= new Dictionary<int, double>();
        CollectionsMarshal.GetValueRefOrAddDefault(row, to, out _) += increment;
        if (row.Count > _pruneAbove) Prune(row);
        // Small rows refresh often (cheap), large rows at most every R updates.
        if (++_updatesSinceRefresh[from] >= Math.Min(_options.CacheRefreshEvery, Math.Max(1, _cacheIds[from].Length)))
            RebuildCache(from, row);
    }

    /// <summary>Fills the sort buffers with the row, heaviest first, equal weights by item index.</summary>
    private int SortedByWeight(Dictionary<int, double> row)
    {
        var count = 0;
        foreach (var (id, weight) in row)
        {
            _sortKeys[count] = -weight;
            _sortIds[count++] = id;
        }
        Array.Sort(_sortKeys, _sortIds, 0, count);
        // The primitive sort is unstable; ordering equal weights by index makes the result independent of hash-table order.
        for (var start = 0; start < count;)
        {
            var end = start + 1;
            while (end < count && _sortKeys[end] == _sortKeys[start]) end++;
            if (end - start > 1) Array.Sort(_sortIds, start, end - start);
            start = end;
        }
        return count;
    }

    private void Prune(Dictionary<int, double> row)
    {
        var count = SortedByWeight(row);
        for (var i = _options.MaxNeighbours; i < count; i++) row.Remove(_sortIds[i]);
    }

    private void RebuildCache(int item, Dictionary<int, double> row)
    {
        _updatesSinceRefresh[item] = 0;
        var count = SortedByWeight(row);
        var keep = Math.Min(count, _options.TopNeighbours);
        Array.Sort(_sortIds, _sortKeys, 0, keep);
        var ids = _cacheIds[item].Length == keep ? _cacheIds[item] : new int[keep];
        var probabilities = _cacheProbabilities[item].Length == keep ? _cacheProbabilities[item] : new double[keep];
        var sum = 0.0;
        for (var i = 0; i < keep; i++) sum -= _sortKeys[i];
        for (var i = 0; i < keep; i++)
        {
            ids[i] = _sortIds[i];
            probabilities[i] = -_sortKeys[i] / sum;
        }
        _cacheIds[item] = ids;
        _cacheProbabilities[item] = probabilities;
    }

    private void EnsureCapacity(int count)
    {
        if (_weights.Length >= count) return;
        var capacity = Math.Max(count, Math.Max(16, _weights.Length * 2));
        var oldLength = _weights.Length;
        Array.Resize(ref _weights, capacity);
        Array.Resize(ref _cacheIds, capacity);
        Array.Resize(ref _cacheProbabilities, capacity);
        Array.Resize(ref _updatesSinceRefresh, capacity);
        Array.Resize(ref _scores, capacity);
        Array.Resize(ref _stamps, capacity);
        for (var i = oldLength; i < capacity; i++)
        {
            _cacheIds[i] = [];
            _cacheProbabilities[i] = [];
        }
    }

    public void WriteSnapshot(Stream destination)
    {
        using var writer = SnapshotIO.Writer(destination);
        SnapshotIO.WriteHeader(writer, Magic, FormatVersion);
        WriteSettings(writer);
        writer.Write(_clockMs);
        writer.Write(_epochMs);
        writer.Write(_items.Count);
        var keys = new List<int>();
        for (var i = 0; i < _items.Count; i++)
        {
            writer.Write(_items[i]);
            writer.Write(_updatesSinceRefresh[i]);
            var row = _weights[i];
            keys.Clear();
            if (row is not null) keys.AddRange(row.Keys);
            keys.Sort();
            writer.Write(keys.Count);
            foreach (var key in keys)
            {
                writer.Write(key);
                writer.Write(row![key]);
            }
            writer.Write(_cacheIds[i].Length);
            for (var j = 0; j < _cacheIds[i].Length; j++)
            {
                writer.Write(_cacheIds[i][j]);
                writer.Write(_cacheProbabilities[i][j]);
            }
        }
    }

    public void RestoreSnapshot(Stream source)
    {
        using var reader = SnapshotIO.Reader(source);
        SnapshotIO.ReadHeader(reader, Magic, FormatVersion, "collaborative model");
        ReadAndCheckSettings(reader);
        var clock = reader.ReadInt64();
        var epoch = reader.ReadInt64();
        var count = reader.ReadInt32();
        if (count < 0) throw new InvalidDataException($"Collaborative model snapshot has a negative item count ({count}).");

        // Build into fresh structures, then swap: a corrupt snapshot leaves the model untouched.
        var indexOf = new Dictionary<string, int>(count, StringComparer.Ordinal);
        var items = new List<string>(count);
        var weights = new Dictionary<int, double>?[count];
        var cacheIds = new int[count][];
        var cacheProbabilities = new double[count][];
        var updates = new int[count];
        for (var i = 0; i < count; i++)
        {
            var id = reader.ReadString();
            if (!indexOf.TryAdd(id, i)) throw new InvalidDataException($"Collaborative model snapshot lists item '{id}' twice.");
            items.Add(id);
            updates[i] = reader.ReadInt32();
            var neighbours = reader.ReadInt32();
            if (neighbours > 0)
            {
                var row = new Dictionary<int, double>(neighbours);
                for (var j = 0; j < neighbours; j++) row[CheckedIndex(reader.ReadInt32(), count)] = reader.ReadDouble();
                weights[i] = row;
            }
            var cached = reader.ReadInt32();
            cacheIds[i] = new int[cached];
            cacheProbabilities[i] = new double[cached];
            for (var j = 0; j < cached; j++)
            {
                cacheIds[i][j] = CheckedIndex(reader.ReadInt32(), count);
                cacheProbabilities[i][j] = reader.ReadDouble();
            }
        }

        _indexOf = indexOf;
        _items = items;
        _weights = weights;
        _cacheIds = cacheIds;
        _cacheProbabilities = cacheProbabilities;
        _updatesSinceRefresh = updates;
        _scores = new double[count];
        _stamps = new int[count];
        _generation = 0;
        _clockMs = clock;
        _epochMs = epoch;
        EnsureCapacity(count);
    }

    private static int CheckedIndex(int index, int count) =>
        (uint)index < (uint)count ? index : throw new InvalidDataException($"Collaborative model snapshot refers to item index {index} of {count}.");

    private void WriteSettings(BinaryWriter writer)
    {
        writer.Write(_options.Alpha);
        writer.Write(_options.CoOccurrenceWindow);
        writer.Write(_options.Symmetric);
        writer.Write(_options.MaxNeighbours);
        writer.Write(_options.TopNeighbours);
        writer.Write(_options.CacheRefreshEvery);
        writer.Write(_options.HalfLifeMs ?? 0);
        writer.Write(_options.RecencyDecay);
        writer.Write(_options.Smoothing);
    }

    private void ReadAndCheckSettings(BinaryReader reader)
    {
        const string what = "Collaborative model";
        SnapshotIO.ExpectSetting(what, nameof(SwingModelOptions.Alpha), reader.ReadDouble(), _options.Alpha);
        SnapshotIO.ExpectSetting(what, nameof(SwingModelOptions.CoOccurrenceWindow), reader.ReadInt32(), _options.CoOccurrenceWindow);
        SnapshotIO.ExpectSetting(what, nameof(SwingModelOptions.Symmetric), reader.ReadBoolean(), _options.Symmetric);
        SnapshotIO.ExpectSetting(what, nameof(SwingModelOptions.MaxNeighbours), reader.ReadInt32(), _options.MaxNeighbours);
        SnapshotIO.ExpectSetting(what, nameof(SwingModelOptions.TopNeighbours), reader.ReadInt32(), _options.TopNeighbours);
        SnapshotIO.ExpectSetting(what, nameof(SwingModelOptions.CacheRefreshEvery), reader.ReadInt32(), _options.CacheRefreshEvery);
        SnapshotIO.ExpectSetting(what, nameof(SwingModelOptions.HalfLifeMs), reader.ReadInt64(), _options.HalfLifeMs ?? 0);
        SnapshotIO.ExpectSetting(what, nameof(SwingModelOptions.RecencyDecay), reader.ReadDouble(), _options.RecencyDecay);
        SnapshotIO.ExpectSetting(what, nameof(SwingModelOptions.Smoothing), reader.ReadDouble(), _options.Smoothing);
    }
}
