using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Processors.Sequence.Streaming;

/// <summary>
/// Encodes a user's window as a <c>SequenceUpdate</c> record (schemas/sequence-update.avsc, Avro binary encoding)
/// straight from the detector's memory into one reused buffer. The sequence role publishes one update per changed user
/// per batch, each carrying the whole window: building the contract objects first (~60 per update) and letting the
/// schema-driven writer box each field made the role allocate ~12 KB per click, and the collections that followed
/// (5.5 s of pauses in a 25 s bench run) were what held freshness back (issue 8 D12). The bytes are exactly those of
/// <see cref="SequenceProcessor.ToContract"/> written by the Avro library: a contract test compares both.
/// </summary>
public sealed class SequenceUpdateWriter(ReadOnlyMemory<byte> header)
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly string[] _variantNames = Enum.GetNames<DetectionVariant>();

    /// <summary>The framed record: the serde's header, then the body. Not thread-safe (one per consumer loop).</summary>
    public byte[] Write(UserSequence sequence, DetectionVariant variant)
    {
        _buffer.ResetWrittenCount();
        _buffer.Write(header.Span);
        WriteString(sequence.UserId);
        WriteLong(sequence.AcceptedEvents);
        WriteString(_variantNames[(int)variant]);

        WriteLong(sequence.Count);
        var gaps = 0;
        var labels = 0;
        for (var i = 0; i < sequence.Count; i++)
        {
            ref readonly var entry = ref sequence[i];
            WriteString(entry.ItemId);
            WriteLong(entry.TimestampMs);
            WriteString(entry.Category ?? "");
            if (entry.IsLabeled) labels++;
            if (entry.Incoming is { } t && t.IsGap(variant)) gaps++;
        }
        if (sequence.Count > 0) WriteLong(0);

        // Avro arrays are framed by an item count: one block holding every item, then the empty block that ends it.
        WriteLong(gaps);
        for (var i = 0; i < sequence.Count && gaps > 0; i++)
        {
            if (sequence[i].Incoming is not { } t || !t.IsGap(variant)) continue;
            WriteLong(i);
            var reasons = ((t.Reasons & GapReasonFlags.Temporal) != 0 ? 1 : 0) + ((t.Reasons & GapReasonFlags.Category) != 0 ? 1 : 0) + ((t.Reasons & GapReasonFlags.Rank) != 0 ? 1 : 0);
            WriteLong(reasons);
            // Enum symbols by index: TD, CD, RANK.
            if ((t.Reasons & GapReasonFlags.Temporal) != 0) WriteLong(0);
            if ((t.Reasons & GapReasonFlags.Category) != 0) WriteLong(1);
            if ((t.Reasons & GapReasonFlags.Rank) != 0) WriteLong(2);
            if (reasons > 0) WriteLong(0);
            WriteLong(t.DeltaMs);
            WriteLong(t.ThresholdMs);
            WriteString(t.FromCategory ?? "");
            WriteString(t.ToCategory ?? "");
            WriteLong(t.RankStatus is RankStatus.Ranked or RankStatus.OutsideCandidates ? t.Rank : -1);
        }
        if (gaps > 0) WriteLong(0);

        WriteLong(labels);
        for (var i = 0; i < sequence.Count && labels > 0; i++)
        {
            ref readonly var entry = ref sequence[i];
            if (!entry.IsLabeled) continue;
            WriteLong(i);
            BinaryPrimitives.WriteDoubleLittleEndian(_buffer.GetSpan(8), entry.LabelDelta);
            _buffer.Advance(8);
        }
        if (labels > 0) WriteLong(0);

        WriteLong(sequence.LastTimestampMs);
        return _buffer.WrittenSpan.ToArray();
    }

    /// <summary>Avro int and long: zig-zag, then base-128 varint, low group first.</summary>
    private void WriteLong(long value)
    {
        var zigzag = (ulong)((value << 1) ^ (value >> 63));
        var span = _buffer.GetSpan(10);
        var n = 0;
        while (zigzag >= 0x80)
        {
            span[n++] = (byte)(zigzag | 0x80);
            zigzag >>= 7;
        }
        span[n++] = (byte)zigzag;
        _buffer.Advance(n);
    }

    private void WriteString(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteLong(length);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(length));
        _buffer.Advance(length);
    }
}
