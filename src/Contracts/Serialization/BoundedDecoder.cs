using System.Buffers.Binary;
using System.Text;
using Avro;


namespace ReaSeq.Contracts.Serialization;

/// <summary>
/// An Avro binary decoder over one in-memory message. Unlike Avro's stream decoder it checks every length prefix
/// against the bytes that are actually left, so a hostile record ("string of 2 GB") fails fast with a clear
/// error instead of allocating, and it reads without a stream in between.
/// </summary>
internal sealed class BoundedDecoder(byte[] buffer, int offset, int count) : global::Avro.IO.Decoder
{
    private readonly int _end = offset + count;
    private int _position = offset;

    public int Remaining => _end - _position;

    public void ReadNull() { }
    public void SkipNull() { }

    public bool ReadBoolean()
    {
        var b = Take(1)[0];
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw new AvroException($"Invalid boolean byte {b}"),
        };
    }

    public void SkipBoolean() => Take(1);

    public int ReadInt()
    {
        var value = ReadLong();
        if (value is < int.MinValue or > int.MaxValue) throw new AvroException($"Int out of range: {value}");
        return (int)value;
    }

    public void SkipInt() => ReadLong();

    public long ReadLong()
    {
        ulong raw = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = Take(1)[0];
            raw |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return (long)(raw >> 1) ^ -(long)(raw & 1);
        }
        throw new AvroException("Varint longer than 10 bytes");
    }

    public void SkipLong() => ReadLong();

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));
    public void SkipFloat() => Take(4);
    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
    public void SkipDouble() => Take(8);

    public byte[] ReadBytes() => Take(ReadLength()).ToArray();
    public void SkipBytes() => Take(ReadLength());

    public string ReadString()
    {
        var bytes = Take(ReadLength());
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new AvroException($"String is not valid UTF-8: {e.Message}");
        }
    }

    public void SkipString() => SkipBytes();
    public int ReadEnum() => ReadInt();
    public void SkipEnum() => ReadLong();
    public int ReadUnionIndex() => ReadInt();
    public void SkipUnionIndex() => ReadLong();
    public long ReadArrayStart() => ReadBlockCount();
    public long ReadArrayNext() => ReadBlockCount();
    public long ReadMapStart() => ReadBlockCount();
    public long ReadMapNext() => ReadBlockCount();
    public void ReadFixed(byte[] buffer) => ReadFixed(buffer, 0, buffer.Length);
    public void ReadFixed(byte[] target, int start, int length) => Take(length).CopyTo(target.AsSpan(start, length));
    public void SkipFixed(int length) => Take(length);

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private int ReadLength()
    {
        var length = ReadLong();
        if (length < 0 || length > Remaining)
            throw new AvroException($"Length prefix {length} exceeds the {Remaining} bytes left in the message");
        return (int)length;
    }

    private long ReadBlockCount()
    {
        var count = ReadLong();
        if (count < 0)
        {
            ReadLong(); // block size in bytes; only useful for skipping
            count = -count;
        }
        // Every item takes at least one byte except nulls; refuse counts the message cannot possibly hold.
        if (count > Remaining + 1) throw new AvroException($"Block count {count} exceeds the {Remaining} bytes left in the message");
        return count;
    }

    private ReadOnlySpan<byte> Take(int length)
    {
        if (length > Remaining) throw new AvroException($"Truncated message: needed {length} more bytes, {Remaining} left");
        var span = new ReadOnlySpan<byte>(buffer, _position, length);
        _position += length;
        return span;
    }
}
