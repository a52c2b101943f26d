using Avro;
using Avro.Specific;
using ReaSeq.Contracts.Serialization;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

public enum ItemOp { UPSERT, DELETE }

public enum ClickAction { CLICK, CART, BUY }

public enum GapReason { TD, CD, RANK }

internal static class Put
{
    public static List<T> List<T>(object? value) => value switch
    {
        null => [],
        List<T> list => list,
        IEnumerable<T> items => [.. items],
        System.Collections.IEnumerable items => [.. items.Cast<T>()],
        _ => throw new AvroException($"Expected an array of {typeof(T).Name}, got {value.GetType().Name}"),
    };

    public static Dictionary<string, T> Map<T>(object? value) => value switch
    {
        null => new(StringComparer.Ordinal),
        Dictionary<string, T> map => map,
        IDictionary<string, T> map => new(map, StringComparer.Ordinal),
        System.Collections.IDictionary map => map.Keys.Cast<string>().ToDictionary(k => k, k => (T)map[k]!, StringComparer.Ordinal),
        _ => throw new AvroException($"Expected a map of {typeof(T).Name}, got {value.GetType().Name}"),
    };

    /// <summary>Avro's reader hands over any index it finds; a symbol outside the enum is a malformed record.</summary>
    public static T Enum<T>(object value) where T : struct, System.Enum
    {
        var symbol = (T)value;
        return System.Enum.IsDefined(symbol) ? symbol : throw new AvroException($"Unknown {typeof(T).Name} symbol index {Convert.ToInt32(value)}");
    }

    public static Exception BadField(int position) => new AvroRuntimeException($"Bad field index {position}");
}

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
        0 => ItemId, 1 => Title, 2 => Description, 3 => CategoryPath, 4 => Attributes, 5 => Price, 6 => TsMs, 7 => Op,
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

public sealed class ClickEvent : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.ClickEvent");
    public Schema Schema => _SCHEMA;
    public string EventId { get; set; } = "";
    public string UserId { get; set; } = "";
    public string ItemId { get; set; } = "";
    public long TsMs { get; set; }
    public ClickAction Action { get; set; }
    public Dictionary<string, string> Context { get; set; } = new(StringComparer.Ordinal);

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => EventId, 1 => UserId, 2 => ItemId, 3 => TsMs, 4 => Action, 5 => Context, _ => throw Contracts.Put.BadField(fieldPos),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: EventId = (string)fieldValue; break;
            case 1: UserId = (string)fieldValue; break;
            case 2: ItemId = (string)fieldValue; break;
            case 3: TsMs = (long)fieldValue; break;
            case 4: Action = Contracts.Put.Enum<ClickAction>(fieldValue); break;
            case 5: Context = Contracts.Put.Map<string>(fieldValue); break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}

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
        0 => ImpressionId, 1 => UserId, 2 => ItemId, 3 => TsMs, 4 => Label, 5 => Context, _ => throw Contracts.Put.BadField(fieldPos),
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
        0 => Label, 1 => Keywords, 2 => Evidence, 3 => Analysis, _ => throw Contracts.Put.BadField(fieldPos),
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
        0 => ItemId, 1 => ContentHash, 2 => Category, 3 => CategoryAssigned, 4 => Demand, 5 => Attribute, 6 => Vector,
        7 => SemanticId, 8 => SemanticIdVersion, 9 => TaxonomyVersion, 10 => PromptVersion, 11 => Backend, 12 => Encoder,
        13 => TsMs, _ => throw Contracts.Put.BadField(fieldPos),
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

public sealed class SequenceEntry : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.SequenceEntry");
    public Schema Schema => _SCHEMA;
    public string ItemId { get; set; } = "";
    public long TsMs { get; set; }
    public string Category { get; set; } = "";

    public object? Get(int fieldPos) => fieldPos switch { 0 => ItemId, 1 => TsMs, 2 => Category, _ => throw Contracts.Put.BadField(fieldPos) };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: ItemId = (string)fieldValue; break;
            case 1: TsMs = (long)fieldValue; break;
            case 2: Category = (string)fieldValue; break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}

public sealed class SequenceGap : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.SequenceGap");
    public Schema Schema => _SCHEMA;
    public int Position { get; set; }
    public List<GapReason> Reasons { get; set; } = [];
    public long DeltaMs { get; set; }
    public long ThresholdMs { get; set; }
    public string PrevCategory { get; set; } = "";
    public string NextCategory { get; set; } = "";
    public int Rank { get; set; } = -1;

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => Position, 1 => Reasons, 2 => DeltaMs, 3 => ThresholdMs, 4 => PrevCategory, 5 => NextCategory, 6 => Rank,
        _ => throw Contracts.Put.BadField(fieldPos),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: Position = (int)fieldValue; break;
            case 1: Reasons = [.. Contracts.Put.List<GapReason>(fieldValue).Select(r => Contracts.Put.Enum<GapReason>(r))]; break;
            case 2: DeltaMs = (long)fieldValue; break;
            case 3: ThresholdMs = (long)fieldValue; break;
            case 4: PrevCategory = (string)fieldValue; break;
            case 5: NextCategory = (string)fieldValue; break;
            case 6: Rank = (int)fieldValue; break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}

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
        0 => UserId, 1 => SequenceVersion, 2 => Variant, 3 => Window, 4 => Gaps, 5 => LabeledPositions, 6 => TsMs,
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

public sealed class FilledPosition : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.FilledPosition");
    public Schema Schema => _SCHEMA;
    public int Position { get; set; }
    public List<float> Vector { get; set; } = [];
    public List<NearestItem> Nearest { get; set; } = [];

    public object? Get(int fieldPos) => fieldPos switch { 0 => Position, 1 => Vector, 2 => Nearest, _ => throw Contracts.Put.BadField(fieldPos) };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: Position = (int)fieldValue; break;
            case 1: Vector = Contracts.Put.List<float>(fieldValue); break;
            case 2: Nearest = Contracts.Put.List<NearestItem>(fieldValue); break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}

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

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => UserId, 1 => SequenceVersion, 2 => Observed, 3 => Filled, 4 => ModelVersion, 5 => TsMs,
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
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}

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
        0 => ModelName, 1 => Version, 2 => Metrics, 3 => CheckpointRef, 4 => TsMs, _ => throw Contracts.Put.BadField(fieldPos),
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

public sealed class DeadLetter : ISpecificRecord
{
    public static readonly RecordSchema _SCHEMA = SchemaCatalog.GetRecord("ReaSeq.Contracts.DeadLetter");
    public Schema Schema => _SCHEMA;
    public string SourceTopic { get; set; } = "";
    public int SourcePartition { get; set; }
    public long SourceOffset { get; set; }
    public byte[]? Key { get; set; }
    public byte[]? Value { get; set; }
    public string ErrorClass { get; set; } = "";
    public string Message { get; set; } = "";
    public string Processor { get; set; } = "";
    public long TsMs { get; set; }

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => SourceTopic, 1 => SourcePartition, 2 => SourceOffset, 3 => Key, 4 => Value, 5 => ErrorClass, 6 => Message,
        7 => Processor, 8 => TsMs, _ => throw Contracts.Put.BadField(fieldPos),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: SourceTopic = (string)fieldValue; break;
            case 1: SourcePartition = (int)fieldValue; break;
            case 2: SourceOffset = (long)fieldValue; break;
            case 3: Key = (byte[]?)fieldValue; break;
            case 4: Value = (byte[]?)fieldValue; break;
            case 5: ErrorClass = (string)fieldValue; break;
            case 6: Message = (string)fieldValue; break;
            case 7: Processor = (string)fieldValue; break;
            case 8: TsMs = (long)fieldValue; break;
            default: throw Contracts.Put.BadField(fieldPos);
        }
    }
}
