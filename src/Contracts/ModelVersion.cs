using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public sealed class ModelVersion : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.ModelVersion");
    public Schema Schema => _SCHEMA;
    public string ModelName { get; set; } = "";
    public long Version { get; set; }
    public Dictionary<string, double> Metrics { get; set; } = new(StringComparer.Ordinal);
    public string CheckpointRef { get; set; } = "";
    public long TsMs { get; set; }

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => ModelName,
        1 => Version,
        2 => Metrics,
        3 => CheckpointRef,
        4 => TsMs,
        _ => throw Contracts.Put.BadField(fieldPos),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: ModelName = (string)fieldValue; break;
            case 1: Version = (long)fieldValue; break;
            case 2: Metrics = Contracts.Put.Map<double>(fieldValue); break;
            case 3: CheckpointRef = (string)fieldValue; break;
            case 4: TsMs = (long)fieldValue; break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
