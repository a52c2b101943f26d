using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public sealed class NearestItem : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.NearestItem");
    public Schema Schema => _SCHEMA;
    public string ItemId { get; set; } = "";
    public float Score { get; set; }

    public object? Get(int fieldPos) => fieldPos switch { 0 => ItemId, 1 => Score, _ => throw Contracts.Put.BadField(fieldPos) };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: ItemId = (string)fieldValue; break;
            case 1: Score = (float)fieldValue; break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
