using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public sealed class LabeledPosition : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.LabeledPosition");
    public Schema Schema => _SCHEMA;
    public int Position { get; set; }
    public double Delta { get; set; }

    public object? Get(int fieldPos) => fieldPos switch { 0 => (object)Position, 1 => Delta, _ => throw Contracts.Put.BadField(fieldPos) };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: Position = (int)fieldValue; break;
            case 1: Delta = (double)fieldValue; break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
