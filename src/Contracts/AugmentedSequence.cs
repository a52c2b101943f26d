using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public sealed class AugmentedSequence : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.AugmentedSequence");
    public Schema Schema => _SCHEMA;
    public string UserId { get; set; } = "";
    public long SequenceVersion { get; set; }
    public List<string> Observed { get; set; } = [];
    public List<FilledPosition> Filled { get; set; } = [];
    public string ModelVersion { get; set; } = "";
    public long TsMs { get; set; }
    public List<int> UnknownPositions { get; set; } = [];

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => UserId,
        1 => SequenceVersion,
        2 => Observed,
        3 => Filled,
        4 => ModelVersion,
        5 => TsMs,
        6 => UnknownPositions,
        _ => throw Contracts.Put.BadField(fieldPos),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: UserId = (string)fieldValue; break;
            case 1: SequenceVersion = (long)fieldValue; break;
            case 2: Observed = Contracts.Put.List<string>(fieldValue); break;
            case 3: Filled = Contracts.Put.List<FilledPosition>(fieldValue); break;
            case 4: ModelVersion = (string)fieldValue; break;
            case 5: TsMs = (long)fieldValue; break;
            case 6: UnknownPositions = Contracts.Put.List<int>(fieldValue); break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
