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
    // Raw neighbour weights per item as parallel unsorted arrays (ids, weights), grown up to the prune bound:
    // a vectorised scan over at most ~80 ids beats a per-item hash table and allocates nothing per update.
    private int[][] _rowIds = [];
    private double[][] _rowWeights = [];
    private int[] _rowCounts = [];
    // Top-N caches sorted by item index; arrays may be longer than the row (grown by doubling, reused).
    private int[][] _cacheIds = [];
    private double[][] _cacheProbabilities = [];
    private int[] _cacheCounts = [];
    private int[] _updatesSinceRefresh = [];
    // The detector looks an item up before deciding and interns it when learning: remembering the last
    // found string instance turns the second hash look-up into a reference comparison.
    private string? _lastFoundId;
    private int _lastFoundIndex;
    private long _clockMs = long.MinValue;
    private long _epochMs;

    // Query scratch: one cursor per context item for the merge of their sorted top-N rows.
    private int[][] _mergeIds = [];
    private double[][] _mergeProbabilities = [];
    private int[] _mergeCounts = [];
    private int[] _mergePositions = [];
    private double[] _mergeWeights = [];
    private readonly double[] _sortKeys;
    private readonly int[] _sortIds;

    public SwingCooccurrenceModel(SwingModelOptions? options = null)
    {
        _options = options ?? new SwingModelOptions();
        _options.Validate();
        _decayPerMs = _options.HalfLifeMs is { } halfLife ? Math.Log(2) / halfLife : 0;
        _pruneAbove = _options.MaxNeighbours + Math.Max(4, _options.MaxNeighbours / 4);
        _sortKeys = new double[_pruneAbove + 1];
        _sortIds = new int[_pruneAbove + 1];
    }

    public SwingModelOptions Options => _options;

    public int ItemCount => _items.Count;

    public int LearningWindow => _options.CoOccurrenceWindow;

    public int IndexOf(string itemId)
    {
        if (ReferenceEquals(itemId, _lastFoundId)) return _lastFoundIndex;
        if (!_indexOf.TryGetValue(itemId, out var index)) return -1;
        _lastFoundId = itemId;
        _lastFoundIndex = index;
        return index;
    }

    public string ItemAt(int index) => _items[index];

    public int Intern(string itemId)
    {
        if (ReferenceEquals(itemId, _lastFoundId)) return _lastFoundIndex;
        ArgumentException.ThrowIfNullOrEmpty(itemId);
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_indexOf, itemId, out var exists);
        if (!exists)
        {
            slot = _items.Count;
            _items.Add(itemId);
            EnsureCapacity(_items.Count);
        }
        _lastFoundId = itemId;
        _lastFoundIndex = slot;
        return slot;
    }

    /// <summary>The current top-N row of an item (neighbour index → normalised weight), for inspection.</summary>
    public IReadOnlyList<KeyValuePair<int, double>> NeighboursOf(int index)
    {
        var ids = _cacheIds[index];
        var probabilities = _cacheProbabilities[index];
        var result = new KeyValuePair<int, double>[_cacheCounts[index]];
        for (var i = 0; i < result.Length; i++) result[i] = new(ids[i], probabilities[i]);
        return result;
    }

    /// <summary>Number of raw neighbour weights stored for an item (bounded by M plus a small eviction slack).</summary>
    public int StoredNeighbourCount(int index) => _rowCounts[index];

    public Prediction Predict(ReadOnlySpan<int> context, int target)
    {
        if (_mergeCounts.Length < context.Length) GrowMergeScratch(context.Length);
        // The target's score is summed exactly as LogProbability sums it, so both agree bitwise.
        var lists = 0;
        var targetScore = 0.0;
        var totalWeight = 0.0;
        var weight = 1.0;
        for (var k = context.Length - 1; k >= 0; k--, weight *= _options.RecencyDecay)
        {
            var item = context[k];
            if (item < 0) continue;
            var count = _cacheCounts[item];
            if (count == 0) continue;
            totalWeight += weight;
            var ids = _cacheIds[item];
            var probabilities = _cacheProbabilities[item];
            if (target >= 0)
            {
                var position = PositionOf(ids, count, target);
                if (position >= 0) targetScore += weight * probabilities[position];
            }
            _mergeIds[lists] = ids;
            _mergeProbabilities[lists] = probabilities;
            _mergeCounts[lists] = count;
            _mergePositions[lists] = 0;
            _mergeWeights[lists++] = weight;
        }

        var logProbability = SmoothedLog(targetScore, totalWeight);
        if (target < 0) return new(logProbability, Prediction.Unranked, RankStatus.UnknownItem);
        if (totalWeight == 0) return new(logProbability, Prediction.Unranked, RankStatus.NoContextEvidence);
        // Outside the candidates: every candidate of the context (score > 0) ranks above it, nothing else does.
        if (targetScore == 0) return new(logProbability, 1 + CountScoringAbove(lists, 0), RankStatus.OutsideCandidates);
        return new(logProbability, 1 + CountScoringAbove(lists, targetScore), RankStatus.Ranked);
    }

    /// <summary>
    /// Walks the context rows in item order (a k-way merge of sorted arrays, so memory is read sequentially)
    /// and counts candidates whose score beats <paramref name="threshold"/>. Each candidate's score adds its
    /// terms newest context item first, the same order as the target's, so equal scores compare equal.
    /// </summary>
    private int CountScoringAbove(int lists, double threshold)
    {
        if (lists <= 3) return CountScoringAboveInThree(lists, threshold);
        var above = 0;
        while (true)
        {
            var next = int.MaxValue;
            for (var l = 0; l < lists; l++)
            {
                var position = _mergePositions[l];
                if (position < _mergeCounts[l] && _mergeIds[l][position] < next) next = _mergeIds[l][position];
            }
            if (next == int.MaxValue) return above;
            var score = 0.0;
            for (var l = 0; l < lists; l++)
            {
                var position = _mergePositions[l];
                if (position >= _mergeCounts[l] || _mergeIds[l][position] != next) continue;
                score += _mergeWeights[l] * _mergeProbabilities[l][position];
                _mergePositions[l] = position + 1;
            }
            if (score > threshold) above++;
        }
    }

    /// <summary>Index of <paramref name="id"/> in the first <paramref name="count"/> (sorted) ids, or -1.</summary>
    private static int PositionOf(int[] ids, int count, int id)
    {
        int low = 0, high = count - 1;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            var found = ids[middle];
            if (found == id) return middle;
            if (found < id) low = middle + 1;
            else high = middle - 1;
        }
        return -1;
    }

    /// <summary>The common case (context of at most three items) with the cursors in registers.</summary>
    private int CountScoringAboveInThree(int lists, double threshold)
    {
        ReadOnlySpan<int> firstIds = lists > 0 ? _mergeIds[0].AsSpan(0, _mergeCounts[0]) : default;
        ReadOnlySpan<int> secondIds = lists > 1 ? _mergeIds[1].AsSpan(0, _mergeCounts[1]) : default;
        ReadOnlySpan<int> thirdIds = lists > 2 ? _mergeIds[2].AsSpan(0, _mergeCounts[2]) : default;
        ReadOnlySpan<double> first = lists > 0 ? _mergeProbabilities[0].AsSpan(0, _mergeCounts[0]) : default;
        ReadOnlySpan<double> second = lists > 1 ? _mergeProbabilities[1].AsSpan(0, _mergeCounts[1]) : default;
        ReadOnlySpan<double> third = lists > 2 ? _mergeProbabilities[2].AsSpan(0, _mergeCounts[2]) : default;
        var firstWeight = lists > 0 ? _mergeWeights[0] : 0;
        var secondWeight = lists > 1 ? _mergeWeights[1] : 0;
        var thirdWeight = lists > 2 ? _mergeWeights[2] : 0;
        int i = 0, j = 0, k = 0, above = 0;
        while (true)
        {
            var x = i < firstIds.Length ? firstIds[i] : int.MaxValue;
            var y = j < secondIds.Length ? secondIds[j] : int.MaxValue;
            var z = k < thirdIds.Length ? thirdIds[k] : int.MaxValue;
            var next = Math.Min(x, Math.Min(y, z));
            if (next == int.MaxValue) return above;
            var score = 0.0;
            if (x == next) score += firstWeight * first[i++];
            if (y == next) score += secondWeight * second[j++];
            if (z == next) score += thirdWeight * third[k++];
            if (score > threshold) above++;
        }
    }

    private void GrowMergeScratch(int length)
    {
        Array.Resize(ref _mergeIds, length);
        Array.Resize(ref _mergeProbabilities, length);
        Array.Resize(ref _mergeCounts, length);
        Array.Resize(ref _mergePositions, length);
        Array.Resize(ref _mergeWeights, length);
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
            var count = _cacheCounts[item];
            if (count == 0) continue;
            totalWeight += weight;
            if (target < 0) continue;
            var position = PositionOf(_cacheIds[item], count, target);
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
        for (var i = 0; i < _items.Count; i++)
        {
            var ids = _rowIds[i];
            var weights = _rowWeights[i];
            var kept = 0;
            for (var j = 0; j < _rowCounts[i]; j++)
            {
                var scaled = weights[j] * factor;
                if (!(scaled > 0)) continue;
                ids[kept] = ids[j];
                weights[kept++] = scaled;
            }
            _rowCounts[i] = kept;
        }
    }

    private void AddWeight(int from, int to, double increment)
    {
        var count = _rowCounts[from];
        var position = _rowIds[from].AsSpan(0, count).IndexOf(to);
        if (position >= 0)
        {
            _rowWeights[from][position] += increment;
        }
        else
        {
            if (count == _rowIds[from].Length) GrowRow(from);
            _rowIds[from][count] = to;
            _rowWeights[from][count] = increment;
            _rowCounts[from] = ++count;
            if (count > _pruneAbove) Prune(from);
        }
        // Small rows refresh often (cheap), large rows at most every R updates.
        if (++_updatesSinceRefresh[from] >= Math.Min(_options.CacheRefreshEvery, Math.Max(1, _cacheCounts[from])))
            RebuildCache(from);
    }

    private void GrowRow(int item)
    {
        var capacity = Math.Min(_pruneAbove + 1, Math.Max(4, _rowIds[item].Length * 2));
        Array.Resize(ref _rowIds[item], capacity);
        Array.Resize(ref _rowWeights[item], capacity);
    }

    /// <summary>
    /// Moves the row's <paramref name="keep"/> heaviest weights (equal weights: lower item index first, a total
    /// order, so the choice never depends on the row's storage order) to the front of the sort buffers, in no
    /// particular order. Returns how many there are.
    /// </summary>
    private int Heaviest(int item, int keep)
    {
        var count = _rowCounts[item];
        var ids = _rowIds[item];
        var weights = _rowWeights[item];
        for (var i = 0; i < count; i++)
        {
            _sortKeys[i] = -weights[i];
            _sortIds[i] = ids[i];
        }
        keep = Math.Min(keep, count);
        if (keep < count) SelectFirst(count, keep);
        return keep;
    }

    private static bool Before(double key, int id, double otherKey, int otherId) => key < otherKey || (key == otherKey && id < otherId);

    /// <summary>Quickselect: afterwards the first <paramref name="keep"/> buffer entries are the smallest (key, id) pairs.</summary>
    private void SelectFirst(int count, int keep)
    {
        var keys = _sortKeys;
        var ids = _sortIds;
        int left = 0, right = count - 1, target = keep - 1;
        while (left < right)
        {
            var middle = left + ((right - left) >> 1);
            var pivotKey = keys[middle];
            var pivotId = ids[middle];
            int i = left, j = right;
            while (i <= j)
            {
                while (Before(keys[i], ids[i], pivotKey, pivotId)) i++;
                while (Before(pivotKey, pivotId, keys[j], ids[j])) j--;
                if (i > j) break;
                (keys[i], keys[j]) = (keys[j], keys[i]);
                (ids[i], ids[j]) = (ids[j], ids[i]);
                i++;
                j--;
            }
            if (target <= j) right = j;
            else if (target >= i) left = i;
            else return;
        }
    }

    /// <summary>Keeps the M heaviest weights (row order is irrelevant: every reader orders them totally).</summary>
    private void Prune(int item)
    {
        var keep = Heaviest(item, _options.MaxNeighbours);
        var ids = _rowIds[item];
        var weights = _rowWeights[item];
        for (var i = 0; i < keep; i++)
        {
            ids[i] = _sortIds[i];
            weights[i] = -_sortKeys[i];
        }
        _rowCounts[item] = keep;
    }

    private void RebuildCache(int item)
    {
        _updatesSinceRefresh[item] = 0;
        var keep = Heaviest(item, _options.TopNeighbours);
        // Item order (ids are distinct, so it is total) for the cache and for the normalising sum.
        Array.Sort(_sortIds, _sortKeys, 0, keep);
        var sum = 0.0;
        for (var i = 0; i < keep; i++) sum -= _sortKeys[i];
        if (_cacheIds[item].Length < keep)
        {
            var capacity = Math.Min(_options.TopNeighbours, Math.Max(keep, 2 * _cacheIds[item].Length));
            _cacheIds[item] = new int[capacity];
            _cacheProbabilities[item] = new double[capacity];
        }
        var ids = _cacheIds[item];
        var probabilities = _cacheProbabilities[item];
        for (var i = 0; i < keep; i++)
        {
            ids[i] = _sortIds[i];
            probabilities[i] = -_sortKeys[i] / sum;
        }
        _cacheCounts[item] = keep;
    }

    private void EnsureCapacity(int count)
    {
        if (_rowIds.Length >= count) return;
        var capacity = Math.Max(count, Math.Max(16, _rowIds.Length * 2));
        var oldLength = _rowIds.Length;
        Array.Resize(ref _rowIds, capacity);
        Array.Resize(ref _rowWeights, capacity);
        Array.Resize(ref _rowCounts, capacity);
        Array.Resize(ref _cacheIds, capacity);
        Array.Resize(ref _cacheProbabilities, capacity);
        Array.Resize(ref _updatesSinceRefresh, capacity);
        Array.Resize(ref _cacheCounts, capacity);
        for (var i = oldLength; i < capacity; i++)
        {
            _rowIds[i] = [];
            _rowWeights[i] = [];
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
        var keys = new int[_pruneAbove + 1];
        var values = new double[_pruneAbove + 1];
        for (var i = 0; i < _items.Count; i++)
        {
            writer.Write(_items[i]);
            writer.Write(_updatesSinceRefresh[i]);
            // Sorted by neighbour index, so equal states give equal bytes whatever the row order.
            var count = _rowCounts[i];
            _rowIds[i].AsSpan(0, count).CopyTo(keys);
            _rowWeights[i].AsSpan(0, count).CopyTo(values);
            Array.Sort(keys, values, 0, count);
            writer.Write(count);
            for (var j = 0; j < count; j++)
            {
                writer.Write(keys[j]);
                writer.Write(values[j]);
            }
            writer.Write(_cacheCounts[i]);
            for (var j = 0; j < _cacheCounts[i]; j++)
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
        var rowIds = new int[count][];
        var rowWeights = new double[count][];
        var rowCounts = new int[count];
        var cacheIds = new int[count][];
        var cacheProbabilities = new double[count][];
        var cacheCounts = new int[count];
        var updates = new int[count];
        for (var i = 0; i < count; i++)
        {
            var id = reader.ReadString();
            if (!indexOf.TryAdd(id, i)) throw new InvalidDataException($"Collaborative model snapshot lists item '{id}' twice.");
            items.Add(id);
            updates[i] = reader.ReadInt32();
            var neighbours = reader.ReadInt32();
            if (neighbours < 0 || neighbours > _pruneAbove)
                throw new InvalidDataException($"Collaborative model snapshot stores {neighbours} neighbours for item '{id}'; at most {_pruneAbove} are kept.");
            rowIds[i] = new int[neighbours];
            rowWeights[i] = new double[neighbours];
            for (var j = 0; j < neighbours; j++)
            {
                var neighbour = CheckedIndex(reader.ReadInt32(), count);
                if (rowIds[i].AsSpan(0, j).Contains(neighbour))
                    throw new InvalidDataException($"Collaborative model snapshot lists neighbour {neighbour} of item '{id}' twice.");
                rowIds[i][j] = neighbour;
                rowWeights[i][j] = reader.ReadDouble();
            }
            rowCounts[i] = neighbours;
            var cached = reader.ReadInt32();
            if (cached < 0 || cached > _options.TopNeighbours)
                throw new InvalidDataException($"Collaborative model snapshot caches {cached} neighbours for item '{id}'; at most {_options.TopNeighbours} are served.");
            cacheCounts[i] = cached;
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
        _lastFoundId = null;
        _rowIds = rowIds;
        _rowWeights = rowWeights;
        _rowCounts = rowCounts;
        _cacheIds = cacheIds;
        _cacheProbabilities = cacheProbabilities;
        _updatesSinceRefresh = updates;
        _cacheCounts = cacheCounts;
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
