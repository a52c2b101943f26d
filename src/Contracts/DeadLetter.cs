using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public sealed class DeadLetter : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.DeadLetter");
    public Schema Schema => _SCHEMA;
    public string SourceTopic { get; set; } = "";
    public int SourcePartition { get; set; }
    public long SourceOffset { get; set; }
    public byte[]? Key { get; set; }
    public byte[]? Value { get; set; }
    public string ErrorClass { get; set; } = "";
    public string Message { get; set; } = "";
    public string Processor { get; set; } = "";
    public long TsMs { get; set; }

    /// <summary>Size of the original value (null: it had none, or an old writer).</summary>
    public int? ValueBytes { get; set; }

    /// <summary>Lowercase hex SHA-256 of the original value.</summary>
    public string? ValueSha256 { get; set; }

    /// <summary>Whether <see cref="Value"/> holds only the first bytes of the original.</summary>
    public bool ValueTruncated { get; set; }

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => SourceTopic,
        1 => SourcePartition,
        2 => SourceOffset,
        3 => Key,
        4 => Value,
        5 => ErrorClass,
        6 => Message,
        7 => Processor,
        8 => TsMs,
        9 => ValueBytes,
        10 => ValueSha256,
        11 => ValueTruncated,
        _ => throw Contracts.Put.BadField(fieldPos),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: SourceTopic = (string)fieldValue; break;
            case 1: SourcePartition = (int)fieldValue; break;
            case 2: SourceOffset = (long)fieldValue; break;
            case 3: Key = (byte[]?)fieldValue; break;
            case 4: Value = (byte[]?)fieldValue; break;
            case 5: ErrorClass = (string)fieldValue; break;
            case 6: Message = (string)fieldValue; break;
            case 7: Processor = (string)fieldValue; break;
            case 8: TsMs = (long)fieldValue; break;
            case 9: ValueBytes = (int?)fieldValue; break;
            case 10: ValueSha256 = (string?)fieldValue; break;
            case 11: ValueTruncated = (bool)fieldValue; break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
