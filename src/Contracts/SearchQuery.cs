using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public sealed class SearchQuery : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.SearchQuery");
    public Schema Schema => _SCHEMA;
    public string Text { get; set; } = "";
    public string Category { get; set; } = "";
    public long TsMs { get; set; }

    public object? Get(int fieldPos) => fieldPos switch { 0 => Text, 1 => Category, 2 => TsMs, _ => throw Contracts.Put.BadField(fieldPos) };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: Text = (string)fieldValue; break;
            case 1: Category = (string)fieldValue; break;
            case 2: TsMs = (long)fieldValue; break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
