using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public sealed class ItemUpdate : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.ItemUpdate");
    public Schema Schema => _SCHEMA;
    public string ItemId { get; set; } = "";
    public string Title { get; set; } = "";
    public string Description { get; set; } = "";
    public List<string> CategoryPath { get; set; } = [];
    public Dictionary<string, string> Attributes { get; set; } = new(StringComparer.Ordinal);
    public double? Price { get; set; }
    public long TsMs { get; set; }
    public ItemOp Op { get; set; } = ItemOp.UPSERT;

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => ItemId,
        1 => Title,
        2 => Description,
        3 => CategoryPath,
        4 => Attributes,
        5 => Price,
        6 => TsMs,
        7 => Op,
        _ => throw Contracts.Put.BadField(fieldPos),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: ItemId = (string)fieldValue; break;
            case 1: Title = (string)fieldValue; break;
            case 2: Description = (string)fieldValue; break;
            case 3: CategoryPath = Contracts.Put.List<string>(fieldValue); break;
            case 4: Attributes = Contracts.Put.Map<string>(fieldValue); break;
            case 5: Price = fieldValue is null ? null : (double)fieldValue; break;
            case 6: TsMs = (long)fieldValue; break;
            case 7: Op = Contracts.Put.Enum<ItemOp>(fieldValue); break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
