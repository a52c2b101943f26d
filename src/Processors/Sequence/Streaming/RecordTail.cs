using Confluent.Kafka;

namespace ReaSeq.Processors.Sequence.Streaming;

/// <summary>
/// One partition's delivered click records since its last durable checkpoint, which a restore re-applies (issue 8 B9),
/// held compactly: keys and values copied into large shared byte chunks, and per record one struct of its offset,
/// timestamp and byte ranges. Kept as consumed, each record was about five small objects alive for a whole checkpoint
/// interval, which collections copied from generation to generation (50,000 per interval at 10,000 clicks/s). Byte
/// chunks hold no references and live on the large-object heap, so the collector neither traces nor copies them.
/// </summary>
public sealed class RecordTail(string topic)
{
    private const int ChunkBytes = 1 << 20;
    private const int Null = -1;

    private readonly record struct Entry(long Offset, long TimestampMs, TimestampType TimestampType, long Chunk, int KeyStart, int KeyLength, int ValueStart, int ValueLength);

    private readonly List<Entry> _entries = [];
    private int _firstEntry;
    private readonly List<byte[]> _chunks = [];
    /// <summary>The absolute number of the chunk at _chunks[0] (chunks are dropped from the front).</summary>
    private long _firstChunk;
    private int _usedInLastChunk;
    /// <summary>Dropped chunks kept for reuse, so that a steady stream allocates no new ones.</summary>
    private readonly Stack<byte[]> _spare = new();
    private const int MaxSpareChunks = 8;

    public int Count => _entries.Count - _firstEntry;

    /// <summary>Appends a record (offsets increase from call to call).</summary>
    public void Add(ConsumeResult<byte[]?, byte[]?> record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var key = record.Message.Key;
        var value = record.Message.Value;
        var bytes = (key?.Length ?? 0) + (value?.Length ?? 0);
        if (_chunks.Count == 0 || _usedInLastChunk + bytes > _chunks[^1].Length)
        {
            _chunks.Add(bytes <= ChunkBytes && _spare.TryPop(out var reused) ? reused : new byte[Math.Max(ChunkBytes, bytes)]);
            _usedInLastChunk = 0;
        }
        var chunk = _chunks[^1];
        int keyStart = _usedInLastChunk, valueStart = keyStart + (key?.Length ?? 0);
        key?.CopyTo(chunk, keyStart);
        value?.CopyTo(chunk, valueStart);
        _usedInLastChunk = valueStart + (value?.Length ?? 0);
        var timestamp = record.Message.Timestamp;
        _entries.Add(new Entry(record.Offset.Value, timestamp.UnixTimestampMs, timestamp.Type, _firstChunk + _chunks.Count - 1,
            keyStart, key?.Length ?? Null, valueStart, value?.Length ?? Null));
    }

    /// <summary>Forgets the records before <paramref name="offset"/> (now covered by a durable checkpoint).</summary>
    public void RemoveBefore(long offset)
    {
        while (_firstEntry < _entries.Count && _entries[_firstEntry].Offset < offset) _firstEntry++;
        if (_firstEntry == _entries.Count)
        {
            _entries.Clear();
            _firstEntry = 0;
            // The last chunk stays for the next records; the others go.
            DropChunks(_chunks.Count - 1);
            return;
        }
        DropChunks((int)(_entries[_firstEntry].Chunk - _firstChunk));
        // Compact the index now and then rather than on every call.
        if (_firstEntry > 4_096 && _firstEntry > _entries.Count / 2)
        {
            _entries.RemoveRange(0, _firstEntry);
            _firstEntry = 0;
        }
    }

    private void DropChunks(int count)
    {
        for (var i = 0; i < count; i++)
            if (_chunks[i].Length == ChunkBytes && _spare.Count < MaxSpareChunks) _spare.Push(_chunks[i]);
        _chunks.RemoveRange(0, count);
        _firstChunk += count;
    }

    /// <summary>The records from <paramref name="offset"/> on, as consumed (topic, partition, offset, key, value, timestamp).</summary>
    public List<ConsumeResult<byte[]?, byte[]?>> From(long offset, int partition)
    {
        var records = new List<ConsumeResult<byte[]?, byte[]?>>();
        for (var i = _firstEntry; i < _entries.Count; i++)
        {
            var e = _entries[i];
            if (e.Offset < offset) continue;
            var chunk = _chunks[(int)(e.Chunk - _firstChunk)];
            records.Add(new ConsumeResult<byte[]?, byte[]?>
            {
                TopicPartitionOffset = new TopicPartitionOffset(topic, partition, e.Offset),
                Message = new Message<byte[]?, byte[]?>
                {
                    Key = e.KeyLength == Null ? null : chunk.AsSpan(e.KeyStart, e.KeyLength).ToArray(),
                    Value = e.ValueLength == Null ? null : chunk.AsSpan(e.ValueStart, e.ValueLength).ToArray(),
                    Timestamp = new Timestamp(e.TimestampMs, e.TimestampType),
                },
            });
        }
        return records;
    }
}
