using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public sealed class ItemKnowledge : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.ItemKnowledge");
    public Schema Schema => _SCHEMA;
    public string ItemId { get; set; } = "";
    public string ContentHash { get; set; } = "";
    public string Category { get; set; } = "";
    public bool CategoryAssigned { get; set; }
    public List<KnowledgeDimension> Demand { get; set; } = [];
    public List<KnowledgeDimension> Attribute { get; set; } = [];
    public List<float> Vector { get; set; } = [];
    public List<int> SemanticId { get; set; } = [];
    public string SemanticIdVersion { get; set; } = "";
    public string TaxonomyVersion { get; set; } = "";
    public string PromptVersion { get; set; } = "";
    public string Backend { get; set; } = "";
    public string Encoder { get; set; } = "";
    public long TsMs { get; set; }

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => ItemId,
        1 => ContentHash,
        2 => Category,
        3 => CategoryAssigned,
        4 => Demand,
        5 => Attribute,
        6 => Vector,
        7 => SemanticId,
        8 => SemanticIdVersion,
        9 => TaxonomyVersion,
        10 => PromptVersion,
        11 => Backend,
        12 => Encoder,
        13 => TsMs,
        _ => throw Contracts.Put.BadField(fieldPos),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: ItemId = (string)fieldValue; break;
            case 1: ContentHash = (string)fieldValue; break;
            case 2: Category = (string)fieldValue; break;
            case 3: CategoryAssigned = (bool)fieldValue; break;
            case 4: Demand = Contracts.Put.List<KnowledgeDimension>(fieldValue); break;
            case 5: Attribute = Contracts.Put.List<KnowledgeDimension>(fieldValue); break;
            case 6: Vector = Contracts.Put.List<float>(fieldValue); break;
            case 7: SemanticId = Contracts.Put.List<int>(fieldValue); break;
            case 8: SemanticIdVersion = (string)fieldValue; break;
            case 9: TaxonomyVersion = (string)fieldValue; break;
            case 10: PromptVersion = (string)fieldValue; break;
            case 11: Backend = (string)fieldValue; break;
            case 12: Encoder = (string)fieldValue; break;
            case 13: TsMs = (long)fieldValue; break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
