using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public sealed class SequenceGap : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.SequenceGap");
    public Schema Schema => _SCHEMA;
    public int Position { get; set; }
    public List<GapReason> Reasons { get; set; } = [];
    public long DeltaMs { get; set; }
    public long ThresholdMs { get; set; }
    public string PrevCategory { get; set; } = "";
    public string NextCategory { get; set; } = "";
    public int Rank { get; set; } = -1;

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => Position,
        1 => Reasons,
        2 => DeltaMs,
        3 => ThresholdMs,
        4 => PrevCategory,
        5 => NextCategory,
        6 => Rank,
        _ => throw Contracts.Put.BadField(fieldPos),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: Position = (int)fieldValue; break;
            case 1: Reasons = [.. Contracts.Put.List<GapReason>(fieldValue).Select(r => Contracts.Put.Enum<GapReason>(r))]; break;
            case 2: DeltaMs = (long)fieldValue; break;
            case 3: ThresholdMs = (long)fieldValue; break;
            case 4: PrevCategory = (string)fieldValue; break;
            case 5: NextCategory = (string)fieldValue; break;
            case 6: Rank = (int)fieldValue; break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
