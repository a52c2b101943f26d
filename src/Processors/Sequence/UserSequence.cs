namespace ReaSeq.Processors.Sequence;

/// <summary>
/// One user's retained recent behaviour: at most WindowSize events in timestamp order (ties in arrival
/// order), each with its incoming transition decision and its label. This is a live view owned by the
/// detector: read it on the detector's thread, or take an immutable copy with <see cref="ToUpdate"/>.
/// </summary>
public sealed class UserSequence
{
    private readonly int _windowSize;
    private WindowEntry[] _ring;
    private int _head;

    // Last accepted event ids in arrival order, for duplicate detection, with their hash codes alongside:
    // a vectorised scan of at most DeduplicationCapacity ints is cheaper than a hash set per user, and ids
    // are compared in full only where the hash codes match.
    private readonly int _deduplicationCapacity;
    private string[] _recentIds;
    private int[] _recentHashes;
    private int _recentNext;
    private int _recentCount;

    internal UserSequence(string userId, int windowSize, int deduplicationCapacity)
    {
        UserId = userId;
        _windowSize = windowSize;
        _ring = new WindowEntry[Math.Min(4, windowSize + 1)];
        _deduplicationCapacity = deduplicationCapacity;
        // Grown on demand: most users never fill the deduplication ring.
        _recentIds = new string[Math.Min(8, deduplicationCapacity)];
        _recentHashes = new int[_recentIds.Length];
    }

    public string UserId { get; }

    /// <summary>Events currently retained.</summary>
    public int Count { get; private set; }

    /// <summary>How many older events were evicted: window position i is position Offset + i of the user's whole sequence.</summary>
    public long Offset { get; private set; }

    /// <summary>Events of this user accepted so far (retained or evicted).</summary>
    public long AcceptedEvents => Offset + Count;

    /// <summary>The newest timestamp accepted for this user (the reference for the out-of-order tolerance).</summary>
    public long LastTimestampMs { get; private set; } = long.MinValue;

    internal bool Changed { get; set; }

    /// <summary>
    /// A checkpoint being written off the detector's thread holds this object, so it must not change: the detector
    /// changes a copy instead (copy on write, <see cref="SequenceDetector"/>). Only users changed during a write are copied.
    /// </summary>
    internal bool Frozen { get; set; }

    /// <summary>When the user was last clicked or loaded (Environment.TickCount64), for idle eviction.</summary>
    public long LastTouchedMs { get; internal set; } = Environment.TickCount64;

    /// <summary>
    /// An independent copy (the window's entries are immutable values, so copying the arrays suffices): while a checkpoint
    /// serialises a frozen user off the consumer thread, the detector changes its copy.
    /// </summary>
    public UserSequence Clone()
    {
        var copy = (UserSequence)MemberwiseClone();
        copy.Frozen = false;
        copy._ring = (WindowEntry[])_ring.Clone();
        copy._recentIds = (string[])_recentIds.Clone();
        copy._recentHashes = (int[])_recentHashes.Clone();
        return copy;
    }

    /// <summary>This user's state as bytes (what <see cref="SequenceDetector.RestoreUser"/> reads).</summary>
    public byte[] ToSnapshot()
    {
        using var stream = new MemoryStream();
        using (var writer = SnapshotIO.Writer(stream)) Write(writer);
        return stream.ToArray();
    }

    public ref readonly WindowEntry this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) ThrowOutsideWindow(index);
            return ref _ring[Physical(index)];
        }
    }

    /// <summary>Window positions of the gaps under <paramref name="variant"/> (a gap at i lies between i−1 and i).</summary>
    public IEnumerable<int> GapPositions(DetectionVariant variant)
    {
        for (var i = 0; i < Count; i++)
            if (this[i].Incoming is { } transition && transition.IsGap(variant)) yield return i;
    }

    /// <summary>Window positions marked as self-supervised labeled positions (§3.2.1).</summary>
    public IEnumerable<int> LabeledPositions()
    {
        for (var i = 0; i < Count; i++)
            if (this[i].IsLabeled) yield return i;
    }

    /// <summary>An immutable copy of the window with the gaps of <paramref name="variant"/>, ready to publish.</summary>
    public WindowSnapshot ToUpdate(DetectionVariant variant)
    {
        var window = new WindowEntry[Count];
        for (var i = 0; i < Count; i++) window[i] = this[i];
        return new WindowSnapshot(UserId, variant, Offset, LastTimestampMs, window, GapPositions(variant).ToArray(), LabeledPositions().ToArray());
    }

    // Kept out of the indexer so that it stays small enough to inline.
    private void ThrowOutsideWindow(int index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, $"The window holds {Count} events.");

    internal ref WindowEntry At(int index) => ref _ring[Physical(index)];

    /// <summary>The model index of the item at a window position the caller knows is valid.</summary>
    internal int ItemIndexAt(int index) => _ring[Physical(index)].ItemIndex;

    private int Physical(int index)
    {
        var physical = _head + index;
        return physical >= _ring.Length ? physical - _ring.Length : physical;
    }

    internal static int HashOf(string eventId) => StringComparer.Ordinal.GetHashCode(eventId);

    internal bool HasSeen(string eventId, int hash)
    {
        var hashes = _recentHashes.AsSpan(0, _recentCount);
        for (var offset = 0; ;)
        {
            var found = hashes[offset..].IndexOf(hash);
            if (found < 0) return false;
            if (string.Equals(_recentIds[offset + found], eventId, StringComparison.Ordinal)) return true;
            offset += found + 1;
        }
    }

    /// <summary>Where an event with this timestamp goes: after every retained event with a timestamp ≤ it.</summary>
    internal int InsertionIndex(long timestampMs)
    {
        var index = Count;
        while (index > 0 && _ring[Physical(index - 1)].TimestampMs > timestampMs) index--;
        return index;
    }

    internal void Insert(int index, in WindowEntry entry, int eventIdHash)
    {
        if (Count == _ring.Length) Grow();
        for (var i = Count; i > index; i--) _ring[Physical(i)] = _ring[Physical(i - 1)];
        _ring[Physical(index)] = entry;
        Count++;
        LastTimestampMs = Math.Max(LastTimestampMs, entry.TimestampMs);
        Remember(entry.EventId, eventIdHash);
    }

    /// <summary>Drops the oldest event once the window is over its size; returns whether it did.</summary>
    internal bool EvictIfOverfull()
    {
        if (Count <= _windowSize) return false;
        _ring[_head] = default;
        _head = _head + 1 == _ring.Length ? 0 : _head + 1;
        Count--;
        Offset++;
        return true;
    }

    private void Grow()
    {
        // Quadruple: each copy of these large entries is garbage, so fewer, bigger steps allocate less in total.
        var larger = new WindowEntry[Math.Min(_ring.Length * 4, _windowSize + 1)];
        for (var i = 0; i < Count; i++) larger[i] = _ring[Physical(i)];
        _ring = larger;
        _head = 0;
    }

    private void Remember(string eventId, int hash)
    {
        if (_recentCount == _recentIds.Length && _recentIds.Length < _deduplicationCapacity)
        {
            // Not yet at capacity: the ring is still in arrival order from slot 0, so it can simply grow.
            Array.Resize(ref _recentIds, Math.Min(_recentIds.Length * 2, _deduplicationCapacity));
            Array.Resize(ref _recentHashes, _recentIds.Length);
            _recentNext = _recentCount;
        }
        if (_recentCount < _recentIds.Length) _recentCount++;
        _recentIds[_recentNext] = eventId;
        _recentHashes[_recentNext] = hash;
        _recentNext = _recentNext + 1 == _recentIds.Length ? 0 : _recentNext + 1;
    }

    private const string Magic = "RSQU";
    private const int FormatVersion = 1;

    internal void Write(BinaryWriter writer)
    {
        SnapshotIO.WriteHeader(writer, Magic, FormatVersion);
        writer.Write(_windowSize);
        writer.Write(_deduplicationCapacity);
        writer.Write(UserId);
        writer.Write(Offset);
        writer.Write(LastTimestampMs);
        writer.Write(Count);
        for (var i = 0; i < Count; i++) WriteEntry(writer, this[i]);
        // Oldest first, so replaying Remember in order rebuilds the same ring.
        writer.Write(_recentCount);
        var oldest = _recentCount == _recentIds.Length ? _recentNext : 0;
        for (var i = 0; i < _recentCount; i++) writer.Write(_recentIds[(oldest + i) % _recentIds.Length]);
    }

    internal static UserSequence Read(BinaryReader reader, int windowSize, int deduplicationCapacity, Func<string, int> indexOf)
    {
        const string what = "User sequence";
        SnapshotIO.ReadHeader(reader, Magic, FormatVersion, what);
        SnapshotIO.ExpectSetting(what, nameof(SequenceDetectorOptions.WindowSize), reader.ReadInt32(), windowSize);
        SnapshotIO.ExpectSetting(what, nameof(SequenceDetectorOptions.DeduplicationCapacity), reader.ReadInt32(), deduplicationCapacity);
        var user = new UserSequence(reader.ReadString(), windowSize, deduplicationCapacity);
        var offset = reader.ReadInt64();
        var last = reader.ReadInt64();
        var count = reader.ReadInt32();
        if (count < 1 || count > windowSize) throw new InvalidDataException($"User sequence snapshot of '{user.UserId}' holds {count} events; the window holds 1..{windowSize}.");
        user._ring = new WindowEntry[windowSize + 1];
        for (var i = 0; i < count; i++)
        {
            var entry = ReadEntry(reader);
            // Item indices belong to the model, so they are looked up again rather than stored.
            user._ring[i] = entry with { ItemIndex = indexOf(entry.ItemId) };
        }
        user.Count = count;
        user.Offset = offset;
        user.LastTimestampMs = last;
        var recent = reader.ReadInt32();
        if (recent < 0 || recent > deduplicationCapacity) throw new InvalidDataException($"User sequence snapshot of '{user.UserId}' lists {recent} recent event ids; capacity is {deduplicationCapacity}.");
        for (var i = 0; i < recent; i++)
        {
            var id = reader.ReadString();
            user.Remember(id, HashOf(id));
        }
        return user;
    }

    private static void WriteEntry(BinaryWriter writer, in WindowEntry entry)
    {
        writer.Write(entry.EventId);
        writer.Write(entry.ItemId);
        SnapshotIO.WriteNullable(writer, entry.Category);
        writer.Write(entry.Domain);
        writer.Write(entry.TimestampMs);
        writer.Write(entry.LabelDelta);
        writer.Write(entry.IsLabeled);
        writer.Write(entry.Incoming.HasValue);
        if (entry.Incoming is not { } t) return;
        writer.Write(t.DeltaMs);
        writer.Write(t.ThresholdMs);
        SnapshotIO.WriteNullable(writer, t.FromCategory);
        SnapshotIO.WriteNullable(writer, t.ToCategory);
        writer.Write(t.Rank);
        writer.Write((byte)t.RankStatus);
        writer.Write(t.LogProbability);
        writer.Write((byte)t.Reasons);
        writer.Write((byte)t.GapIn);
    }

    private static WindowEntry ReadEntry(BinaryReader reader)
    {
        var eventId = reader.ReadString();
        var itemId = reader.ReadString();
        var category = SnapshotIO.ReadNullable(reader);
        var domain = reader.ReadString();
        var timestamp = reader.ReadInt64();
        var labelDelta = reader.ReadDouble();
        var labeled = reader.ReadBoolean();
        Transition? incoming = null;
        if (reader.ReadBoolean())
        {
            incoming = new Transition(
                reader.ReadInt64(), reader.ReadInt64(), SnapshotIO.ReadNullable(reader), SnapshotIO.ReadNullable(reader),
                reader.ReadInt32(), (Model.RankStatus)reader.ReadByte(), reader.ReadDouble(),
                (GapReasonFlags)reader.ReadByte(), (DetectionVariantFlags)reader.ReadByte());
        }
        return new WindowEntry(eventId, itemId, category, domain, timestamp, incoming, labelDelta, labeled);
    }
}
