using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public sealed class SequenceUpdate : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.SequenceUpdate");
    public Schema Schema => _SCHEMA;
    public string UserId { get; set; } = "";
    public long SequenceVersion { get; set; }
    public string Variant { get; set; } = "";
    public List<SequenceEntry> Window { get; set; } = [];
    public List<SequenceGap> Gaps { get; set; } = [];
    public List<LabeledPosition> LabeledPositions { get; set; } = [];
    public long TsMs { get; set; }

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => UserId,
        1 => SequenceVersion,
        2 => Variant,
        3 => Window,
        4 => Gaps,
        5 => LabeledPositions,
        6 => TsMs,
        _ => throw Contracts.Put.BadField(fieldPos),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: UserId = (string)fieldValue; break;
            case 1: SequenceVersion = (long)fieldValue; break;
            case 2: Variant = (string)fieldValue; break;
            case 3: Window = Contracts.Put.List<SequenceEntry>(fieldValue); break;
            case 4: Gaps = Contracts.Put.List<SequenceGap>(fieldValue); break;
            case 5: LabeledPositions = Contracts.Put.List<LabeledPosition>(fieldValue); break;
            case 6: TsMs = (long)fieldValue; break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
