using System.Runtime.InteropServices;
using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Models.Ctr;

/// <summary>
/// Turns point-in-time features into the tensors <see cref="CtrModel"/> reads. The trainer and the ranking API both
/// build batches here, so a model sees the same features online as in training.
/// <para>
/// Sequence items are de-duplicated across the batch by reference (the same float[] instance is one item), which is
/// how a request's candidates share their user's history and how one batch's users share popular items.
/// </para>
/// </summary>
public static class CtrBatchBuilder
{
    /// <summary>A training batch with labels.</summary>
    public static Interaction Build(IReadOnlyList<CtrExample> examples, CtrModelOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var labels = new float[examples.Count];
        for (int i = 0; i < examples.Count; i++)
        {
            float label = examples[i].Label;
            if (label is not (0f or 1f)) throw new ArgumentException($"Example {i} has label {label}; labels are 0 or 1.", nameof(examples));
            labels[i] = label;
        }
        return Build(examples.Select(e => (e.User, e.Candidate)).ToList(), labels, options, device);
    }

    /// <summary>A scoring batch: one user against each candidate, no labels.</summary>
    public static Interaction Build(CtrUserFeatures user, IReadOnlyList<CtrCandidate> candidates, CtrModelOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(candidates);
        return Build(candidates.Select(c => (user, c)).ToList(), null, options, device);
    }

    /// <summary>
    /// The sequence the model sees for <paramref name="user"/>: the observed history with the GBR fills inserted
    /// before the history index they were inferred at (§4.2.4 replaces the sequence by the extended one), keeping
    /// the newest <see cref="CtrModelOptions.MaxHistory"/> entries.
    /// </summary>
    public static IReadOnlyList<SequenceSlot> Sequence(CtrUserFeatures user, int maxHistory)
    {
        ArgumentNullException.ThrowIfNull(user);
        var history = user.History ?? [];
        var sids = user.HistorySemanticIds;
        if (sids is not null && sids.Count != history.Count)
        {
            throw new ArgumentException(
                $"User {user.UserId} has {history.Count} history items but {sids.Count} semantic ids; they must match one to one.", nameof(user));
        }
        var fills = user.Fills is null || user.Fills.Count == 0
            ? []
            : user.Fills.OrderBy(f => f.Position).ToList();
        var slots = new List<SequenceSlot>(history.Count + fills.Count);
        int next = 0;
        for (int i = 0; i <= history.Count; i++)
        {
            while (next < fills.Count && (fills[next].Position <= i || i == history.Count))
            {
                slots.Add(new SequenceSlot(fills[next].Vector, null, true));
                next++;
            }
            if (i < history.Count) slots.Add(new SequenceSlot(history[i], sids?[i], false));
        }
        return slots.Count <= maxHistory ? slots : slots.GetRange(slots.Count - maxHistory, maxHistory);
    }

    private static Interaction Build(IReadOnlyList<(CtrUserFeatures User, CtrCandidate Candidate)> rows, float[]? labels, CtrModelOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(options);
        int b = rows.Count;
        if (b == 0) throw new ArgumentException("A batch needs at least one example.", nameof(rows));
        int d = options.ItemVectorDim, levels = options.SidLevels;

        // Each distinct user's sequence once; each distinct item (vector instance) once in the table.
        var sequences = new Dictionary<CtrUserFeatures, IReadOnlyList<SequenceSlot>>(ReferenceEqualityComparer.Instance);
        var tableIndex = new Dictionary<float[], int>(ReferenceEqualityComparer.Instance);
        var tableSlots = new List<SequenceSlot> { default };
        int longest = 1;
        foreach (var (owner, _) in rows)
        {
            ArgumentNullException.ThrowIfNull(owner);
            if (sequences.ContainsKey(owner)) continue;
            var sequence = Sequence(owner, options.MaxHistory);
            sequences[owner] = sequence;
            longest = Math.Max(longest, sequence.Count);
            foreach (var slot in sequence)
            {
                if (slot.Vector is null || slot.Vector.Length != d)
                {
                    throw new ArgumentException(
                        $"User {owner.UserId} has a sequence vector of width {slot.Vector?.Length ?? 0}; the model expects {d}.", nameof(rows));
                }
                if (tableIndex.TryAdd(slot.Vector, tableSlots.Count)) tableSlots.Add(slot);
            }
        }

        int perRow = (tableSlots.Count + b - 1) / b;
        // Every field is written straight into its (zeroed) tensor's native memory, as BuildCandidates does: the item
        // table alone is 5 MB at length 50 (15 MB at 200), which as a managed array was a large-object-heap allocation
        // per step (a gen-2 collection every few steps) and a second copy into libtorch.
        var tableTensor = zeros([b, perRow, d], dtype: ScalarType.Float32);
        var tableSidTensor = zeros([b, perRow, levels], dtype: ScalarType.Int64);
        var tableFillTensor = zeros([b, perRow], dtype: ScalarType.Float32);
        var table = MemoryMarshal.Cast<byte, float>(tableTensor.bytes);
        var tableSid = MemoryMarshal.Cast<byte, long>(tableSidTensor.bytes);
        var tableFill = MemoryMarshal.Cast<byte, float>(tableFillTensor.bytes);
        for (int row = 1; row < tableSlots.Count; row++) WriteTableRow(tableSlots[row], row, table, tableSid, tableFill, options);

        var historyTensor = zeros([b, longest], dtype: ScalarType.Int64);
        var groupTensor = zeros([b, 2], dtype: ScalarType.Int64);
        var targetTensor = zeros([b, d], dtype: ScalarType.Float32);
        var knownTensor = zeros([b], dtype: ScalarType.Float32);
        var targetSidTensor = zeros([b, levels], dtype: ScalarType.Int64);
        var sideTensor = zeros([b, 3], dtype: ScalarType.Int64);
        var userTensor = zeros([b, CtrModel.UserFeatureCount], dtype: ScalarType.Float32);
        var history = MemoryMarshal.Cast<byte, long>(historyTensor.bytes);
        // Rows of one user share one sequence: (its index among the batch's distinct sequences, the row's rank among its rows).
        var group = MemoryMarshal.Cast<byte, long>(groupTensor.bytes);
        var owners = new Dictionary<CtrUserFeatures, int>(ReferenceEqualityComparer.Instance);
        var ranks = new List<int>();
        var target = MemoryMarshal.Cast<byte, float>(targetTensor.bytes);
        var known = MemoryMarshal.Cast<byte, float>(knownTensor.bytes);
        var targetSid = MemoryMarshal.Cast<byte, long>(targetSidTensor.bytes);
        var side = MemoryMarshal.Cast<byte, long>(sideTensor.bytes);
        var user = MemoryMarshal.Cast<byte, float>(userTensor.bytes);
        for (int i = 0; i < b; i++)
        {
            var (features, candidate) = rows[i];
            ArgumentNullException.ThrowIfNull(candidate);
            var sequence = sequences[features];
            // Right-aligned: the newest item is always in the last column.
            int offset = longest - sequence.Count;
            for (int j = 0; j < sequence.Count; j++) history[i * longest + offset + j] = tableIndex[sequence[j].Vector];
            if (!owners.TryGetValue(features, out int owner))
            {
                owner = owners.Count;
                owners.Add(features, owner);
                ranks.Add(0);
            }
            group[i * 2] = owner;
            group[i * 2 + 1] = ranks[owner]++;
            WriteCandidate(candidate, i, target, known, targetSid, side, options);
            WriteUserSide(features, sequence, user.Slice(i * CtrModel.UserFeatureCount, CtrModel.UserFeatureCount));
        }

        var batch = new Interaction()
            .Add(CtrModel.ItemTableField, OnDevice(tableTensor, device))
            .Add(CtrModel.ItemTableSidField, OnDevice(tableSidTensor, device))
            .Add(CtrModel.ItemTableFillField, OnDevice(tableFillTensor, device))
            .Add(CtrModel.HistoryField, OnDevice(historyTensor, device))
            .Add(CtrModel.HistoryGroupField, OnDevice(groupTensor, device))
            .Add(CtrModel.TargetField, OnDevice(targetTensor, device))
            .Add(CtrModel.TargetKnownField, OnDevice(knownTensor, device))
            .Add(CtrModel.TargetSidField, OnDevice(targetSidTensor, device))
            .Add(CtrModel.TargetSideField, OnDevice(sideTensor, device))
            .Add(CtrModel.UserSideField, OnDevice(userTensor, device));
        if (labels is not null) batch.Add(CtrModel.LabelField, tensor(labels, [b], device: device));
        return batch;
    }

    /// <summary>
    /// The user step's input of the split scoring path (<see cref="CtrModel.EncodeUser"/>): the user's sequence items
    /// once each, exactly as <see cref="Build(CtrUserFeatures, IReadOnlyList{CtrCandidate}, CtrModelOptions, Device)"/>
    /// would put them in its item table. A batch of one: <see cref="CtrModel.ItemTableField"/> [1, R, itemVectorDim]
    /// (row 0 padding), <see cref="CtrModel.ItemTableSidField"/> [1, R, SidLevels], <see cref="CtrModel.ItemTableFillField"/>
    /// [1, R], <see cref="CtrModel.HistoryField"/> [1, L] table rows (L ≥ 1; a cold user has one padding position, as in a
    /// batch) and <see cref="CtrModel.UserSideField"/> [1, <see cref="CtrModel.UserFeatureCount"/>].
    /// </summary>
    public static Interaction BuildUser(CtrUserFeatures user, CtrModelOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(options);
        int d = options.ItemVectorDim, levels = options.SidLevels;
        var sequence = Sequence(user, options.MaxHistory);
        var tableIndex = new Dictionary<float[], int>(ReferenceEqualityComparer.Instance);
        var history = new long[Math.Max(1, sequence.Count)];
        int offset = history.Length - sequence.Count;
        var slots = new List<SequenceSlot>(sequence.Count + 1) { default };
        for (int j = 0; j < sequence.Count; j++)
        {
            var slot = sequence[j];
            if (slot.Vector is null || slot.Vector.Length != d)
                throw new ArgumentException($"User {user.UserId} has a sequence vector of width {slot.Vector?.Length ?? 0}; the model expects {d}.", nameof(user));
            if (!tableIndex.TryGetValue(slot.Vector, out int row))
            {
                row = slots.Count;
                tableIndex.Add(slot.Vector, row);
                slots.Add(slot);
            }
            history[offset + j] = row;
        }
        var table = new float[(long)slots.Count * d];
        var tableSid = new long[(long)slots.Count * levels];
        var tableFill = new float[slots.Count];
        for (int row = 1; row < slots.Count; row++) WriteTableRow(slots[row], row, table, tableSid, tableFill, options);
        var userSide = new float[CtrModel.UserFeatureCount];
        WriteUserSide(user, sequence, userSide);
        return new Interaction()
            .Add(CtrModel.ItemTableField, tensor(table, [1, slots.Count, d], device: device))
            .Add(CtrModel.ItemTableSidField, tensor(tableSid, [1, slots.Count, levels], device: device))
            .Add(CtrModel.ItemTableFillField, tensor(tableFill, [1, slots.Count], device: device))
            .Add(CtrModel.HistoryField, tensor(history, [1, history.Length], device: device))
            .Add(CtrModel.UserSideField, tensor(userSide, [1, CtrModel.UserFeatureCount], device: device));
    }

    /// <summary>
    /// The candidate step's input of the split scoring path (<see cref="CtrModel.ForwardCandidates(CtrUserState, Interaction)"/>): the target
    /// fields of <see cref="Build(CtrUserFeatures, IReadOnlyList{CtrCandidate}, CtrModelOptions, Device)"/> alone,
    /// [C, …] each.
    /// </summary>
    public static Interaction BuildCandidates(IReadOnlyList<CtrCandidate> candidates, CtrModelOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(options);
        int c = candidates.Count, d = options.ItemVectorDim, levels = options.SidLevels;
        if (c == 0) throw new ArgumentException("A batch needs at least one candidate.", nameof(candidates));
        // Written straight into the tensors' (zeroed) native memory: no managed copy per request (the [C, d] vectors are
        // 300 KB at 200 candidates, a large-object-heap array each request if built managed, and a second copy).
        var target = zeros(c, d, dtype: ScalarType.Float32);
        var known = zeros(c, dtype: ScalarType.Float32);
        var targetSid = zeros(c, levels, dtype: ScalarType.Int64);
        var side = zeros(c, 3, dtype: ScalarType.Int64);
        var targetData = MemoryMarshal.Cast<byte, float>(target.bytes);
        var knownData = MemoryMarshal.Cast<byte, float>(known.bytes);
        var targetSidData = MemoryMarshal.Cast<byte, long>(targetSid.bytes);
        var sideData = MemoryMarshal.Cast<byte, long>(side.bytes);
        for (int i = 0; i < c; i++)
        {
            ArgumentNullException.ThrowIfNull(candidates[i]);
            WriteCandidate(candidates[i], i, targetData, knownData, targetSidData, sideData, options);
        }
        return new Interaction()
            .Add(CtrModel.TargetField, target.to(device))
            .Add(CtrModel.TargetKnownField, known.to(device))
            .Add(CtrModel.TargetSidField, targetSid.to(device))
            .Add(CtrModel.TargetSideField, side.to(device));
    }

    /// <summary>The host tensor itself on the CPU; elsewhere its copy on <paramref name="device"/> (the host one freed at once).</summary>
    private static Tensor OnDevice(Tensor host, Device device)
    {
        if (device.type == TorchSharp.DeviceType.CPU) return host;
        var moved = host.to(device);
        host.Dispose();
        return moved;
    }

    private static void WriteTableRow(SequenceSlot slot, int row, Span<float> table, Span<long> tableSid, Span<float> tableFill, CtrModelOptions options)
    {
        int d = options.ItemVectorDim, levels = options.SidLevels;
        var destination = table.Slice(row * d, d);
        slot.Vector.CopyTo(destination);
        // §4.2.1: fills are normalised before they enter the model.
        if (slot.IsFill) Normalize(destination);
        tableFill[row] = slot.IsFill ? 1f : 0f;
        WriteSid(slot.SemanticId, tableSid.Slice(row * levels, levels), options.SidCodebookSize);
    }

    private static void WriteCandidate(CtrCandidate candidate, int i, Span<float> target, Span<float> known, Span<long> targetSid, Span<long> side, CtrModelOptions options)
    {
        int d = options.ItemVectorDim, levels = options.SidLevels;
        if (candidate.KnowledgeVector is { } vector)
        {
            if (vector.Length != d)
                throw new ArgumentException($"Candidate {candidate.ItemId} has a vector of width {vector.Length}; the model expects {d}.", nameof(candidate));
            vector.CopyTo(target.Slice(i * d, d));
            known[i] = 1f;
        }
        WriteSid(candidate.SemanticId, targetSid.Slice(i * levels, levels), options.SidCodebookSize);
        side[i * 3] = Math.Clamp(candidate.CategoryBucket, 0, CtrBuckets.CategoryBuckets - 1);
        side[i * 3 + 1] = Math.Clamp(candidate.PriceBucket, 0, CtrBuckets.PriceBuckets - 1);
        side[i * 3 + 2] = CtrBuckets.PopularityBucket(candidate.Popularity);
    }

    /// <summary>log1p(clicks so far), log1p(sequence length fed), share of GBR fills in it.</summary>
    private static void WriteUserSide(CtrUserFeatures features, IReadOnlyList<SequenceSlot> sequence, Span<float> destination)
    {
        int fills = 0;
        foreach (var slot in sequence)
        {
            if (slot.IsFill) fills++;
        }
        destination[0] = MathF.Log(1 + Math.Max(0, features.ClickCount));
        destination[1] = MathF.Log(1 + sequence.Count);
        destination[2] = sequence.Count == 0 ? 0f : fills / (float)sequence.Count;
    }

    /// <summary>Code + 1 per level (0 = unknown); codes beyond the codebook wrap, levels beyond the model's are dropped.</summary>
    private static void WriteSid(int[]? codes, Span<long> destination, int codebookSize)
    {
        if (codes is null) return;
        for (int level = 0; level < destination.Length && level < codes.Length; level++)
        {
            int code = codes[level];
            if (code >= 0) destination[level] = 1 + (code % codebookSize);
        }
    }

    private static void Normalize(Span<float> vector)
    {
        double norm = 0;
        foreach (float v in vector) norm += (double)v * v;
        if (norm <= 0) return;
        float scale = (float)(1 / Math.Sqrt(norm));
        for (int i = 0; i < vector.Length; i++) vector[i] *= scale;
    }
}
