using System.Buffers.Binary;
using System.Collections.Concurrent;
using Avro;
using Avro.IO;
using Avro.Specific;

namespace ReaSeq.Contracts.Serialization;

/// <summary>
/// Writes and reads one contract type. Without a schema registry it writes Avro single-object encoding
/// (0xC3 0x01, 8-byte little-endian CRC-64-AVRO fingerprint, body); with one it writes the Confluent wire format
/// (0x00, 4-byte big-endian schema id, body). Reading detects the framing from the first byte and resolves the
/// writer schema to the current one, so records of older schema versions stay readable.
/// </summary>
public sealed class AvroSerde<T> where T : ISpecificRecord, new()
{
    public const byte SingleObjectMarker0 = 0xC3;
    public const byte SingleObjectMarker1 = 0x01;
    public const byte ConfluentMagic = 0x00;

    /// <summary>Bytes before the body in single-object encoding: the two marker bytes and the 8-byte fingerprint.</summary>
    public const int SingleObjectHeaderLength = 10;

    private static readonly Schema ReaderSchema = new T().Schema;
    private static readonly long ReaderFingerprint = SchemaCatalog.Fingerprint(ReaderSchema);

    private readonly ISchemaRegistry? _registry;
    private readonly SpecificDatumWriter<T> _writer = new(ReaderSchema);
    private readonly ConcurrentDictionary<long, SpecificDatumReader<T>> _readersByFingerprint = new();
    private readonly ConcurrentDictionary<int, SpecificDatumReader<T>> _readersByRegistryId = new();
    private readonly byte[] _header;

    public AvroSerde(ISchemaRegistry? registry = null)
    {
        _registry = registry;
        if (registry is null)
        {
            _header = new byte[10];
            _header[0] = SingleObjectMarker0;
            _header[1] = SingleObjectMarker1;
            BinaryPrimitives.WriteInt64LittleEndian(_header.AsSpan(2), ReaderFingerprint);
        }
        else
        {
            // Subject by record name: the same contract type keeps one subject whatever topic carries it.
            var id = registry.GetOrRegisterId(ReaderSchema.Fullname + "-value", ReaderSchema);
            _header = new byte[5];
            _header[0] = ConfluentMagic;
            BinaryPrimitives.WriteInt32BigEndian(_header.AsSpan(1), id);
        }
    }

    public static Schema Schema => ReaderSchema;

    /// <summary>The framing written before every body (single-object header or Confluent magic and schema id).</summary>
    public ReadOnlySpan<byte> Header => _header;

    public byte[] Serialize(T record)
    {
        using var stream = new MemoryStream(128);
        stream.Write(_header);
        _writer.Write(record, new BinaryEncoder(stream));
        return stream.ToArray();
    }

    public T Deserialize(byte[]? data) => data is null ? throw new ContractException(ErrorClasses.Empty, "Record has no value") : Deserialize(data, 0, data.Length);

    public T Deserialize(byte[] data, int offset, int count)
    {
        if (count == 0) throw new ContractException(ErrorClasses.Empty, "Record value is empty");
        SpecificDatumReader<T> reader;
        int bodyStart;
        if (data[offset] == SingleObjectMarker0)
        {
            if (count < 10 || data[offset + 1] != SingleObjectMarker1)
                throw new ContractException(ErrorClasses.UnknownEncoding, "Record starts with 0xC3 but is not a complete Avro single-object header");
            var fingerprint = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(offset + 2, 8));
            reader = _readersByFingerprint.GetOrAdd(fingerprint, static (fp, self) => self.ReaderFor(fp), this);
            bodyStart = offset + 10;
        }
        else if (data[offset] == ConfluentMagic)
        {
            if (count < 5) throw new ContractException(ErrorClasses.UnknownEncoding, "Record starts with 0x00 but is shorter than a Confluent header");
            var id = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(offset + 1, 4));
            if (_registry is null)
                throw new ContractException(ErrorClasses.UnknownSchema, $"Record uses Confluent framing (schema id {id}) but no schema registry is configured");
            reader = _readersByRegistryId.GetOrAdd(id, static (i, self) => new SpecificDatumReader<T>(self._registry!.GetSchema(i), ReaderSchema), this);
            bodyStart = offset + 5;
        }
        else
        {
            throw new ContractException(ErrorClasses.UnknownEncoding,
                $"Record starts with byte 0x{data[offset]:X2}: neither Avro single-object (0xC3 0x01) nor Confluent (0x00) framing");
        }

        var decoder = new BoundedDecoder(data, bodyStart, offset + count - bodyStart);
        T record;
        try
        {
            record = reader.Read(default!, decoder);
        }
        catch (Exception e) when (e is AvroException or InvalidCastException or IndexOutOfRangeException or ArgumentException or InvalidOperationException)
        {
            throw new ContractException(ErrorClasses.Malformed, $"Cannot decode {ReaderSchema.Name}: {e.Message}", e);
        }
        if (decoder.Remaining != 0)
            throw new ContractException(ErrorClasses.Malformed, $"Cannot decode {ReaderSchema.Name}: {decoder.Remaining} bytes left after the record (wrong schema?)");
        return record;
    }

    private SpecificDatumReader<T> ReaderFor(long fingerprint)
    {
        var writerSchema = fingerprint == ReaderFingerprint ? ReaderSchema : SchemaCatalog.FindByFingerprint(fingerprint);
        if (writerSchema is null)
            throw new ContractException(ErrorClasses.UnknownSchema, $"Unknown writer schema fingerprint 0x{fingerprint:X16} for {ReaderSchema.Name}");
        if (writerSchema is not RecordSchema writerRecord || writerRecord.Fullname != ReaderSchema.Fullname)
            throw new ContractException(ErrorClasses.UnknownSchema, $"Record was written with schema {writerSchema.Fullname}, expected {ReaderSchema.Fullname}");
        return new SpecificDatumReader<T>(writerSchema, ReaderSchema);
    }
}

