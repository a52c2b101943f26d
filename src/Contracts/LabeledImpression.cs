using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public sealed class LabeledImpression : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.LabeledImpression");
    public Schema Schema => _SCHEMA;
    public string ImpressionId { get; set; } = "";
    public string UserId { get; set; } = "";
    public string ItemId { get; set; } = "";
    public long TsMs { get; set; }
    public int Label { get; set; }
    public Dictionary<string, string> Context { get; set; } = new(StringComparer.Ordinal);

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => ImpressionId,
        1 => UserId,
        2 => ItemId,
        3 => TsMs,
        4 => Label,
        5 => Context,
        _ => throw Contracts.Put.BadField(fieldPos),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: ImpressionId = (string)fieldValue; break;
            case 1: UserId = (string)fieldValue; break;
            case 2: ItemId = (string)fieldValue; break;
            case 3: TsMs = (long)fieldValue; break;
            case 4: Label = (int)fieldValue; break;
            case 5: Context = Contracts.Put.Map<string>(fieldValue); break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
