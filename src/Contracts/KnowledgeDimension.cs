using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public sealed class KnowledgeDimension : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.KnowledgeDimension");
    public Schema Schema => _SCHEMA;
    public string Label { get; set; } = "";
    public List<string> Keywords { get; set; } = [];
    public List<string> Evidence { get; set; } = [];
    public string Analysis { get; set; } = "";

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => Label,
        1 => Keywords,
        2 => Evidence,
        3 => Analysis,
        _ => throw Contracts.Put.BadField(fieldPos),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: Label = (string)fieldValue; break;
            case 1: Keywords = Contracts.Put.List<string>(fieldValue); break;
            case 2: Evidence = Contracts.Put.List<string>(fieldValue); break;
            case 3: Analysis = (string)fieldValue; break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
