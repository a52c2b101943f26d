using System.Buffers.Binary;
using System.Collections.Concurrent;
using Avro;
using Avro.Generic;
using Avro.IO;
using Avro.Specific;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;

namespace ReaSeq.Tests.Contracts;

public sealed class SerdeTests
{
    /// <summary>A schema registry kept in memory: no registry server can run on this machine.</summary>
    private sealed class InMemoryRegistry : ISchemaRegistry
    {
        private readonly ConcurrentDictionary<string, int> _ids = new();
        private readonly ConcurrentDictionary<int, Schema> _schemas = new();
        public int GetOrRegisterId(string subject, Schema schema) => _ids.GetOrAdd(schema.ToString(), _ =>
        {
            var id = _schemas.Count + 100;
            _schemas[id] = schema;
            return id;
        });
        public Schema GetSchema(int id) => _schemas[id];
    }

    public static TheoryData<string> Encodings => new() { "single-object", "confluent" };

    private static AvroSerde<T> Serde<T>(string encoding) where T : ISpecificRecord, new() =>
        new(encoding == "confluent" ? new InMemoryRegistry() : null);

    private static T RoundTrip<T>(T record, string encoding) where T : ISpecificRecord, new()
    {
        var serde = Serde<T>(encoding);
        var bytes = serde.Serialize(record);
        Assert.Equal(encoding == "confluent" ? 0x00 : 0xC3, bytes[0]);
        return serde.Deserialize(bytes);
    }

    [Theory, MemberData(nameof(Encodings))]
    public void Every_contract_round_trips(string encoding)
    {
        var item = RoundTrip(new ItemUpdate
        {
            ItemId = "85123A",
            Title = "WHITE HANGING HEART T-LIGHT HOLDER",
            Description = "ceramic",
            CategoryPath = ["HOME", "LIGHTS"],
            Attributes = new() { ["colour"] = "white" },
            Price = 2.55,
            TsMs = 1_291_191_960_000,
            Op = ItemOp.UPSERT,
        }, encoding);
        Assert.Equal(("85123A", 2.55, "white", "LIGHTS"), (item.ItemId, item.Price!.Value, item.Attributes["colour"], item.CategoryPath[1]));
        Assert.Null(RoundTrip(new ItemUpdate { ItemId = "x", Title = "t", TsMs = 1, Op = ItemOp.DELETE }, encoding).Price);

        var click = RoundTrip(new ClickEvent { EventId = "e1", UserId = "17850", ItemId = "85123A", TsMs = 5, Action = ClickAction.BUY, Context = new() { ["invoice"] = "536365" } }, encoding);
        Assert.Equal((ClickAction.BUY, "536365"), (click.Action, click.Context["invoice"]));

        var impression = RoundTrip(new LabeledImpression { ImpressionId = "i", UserId = "u", ItemId = "x", TsMs = 9, Label = 1 }, encoding);
        Assert.Equal(1, impression.Label);

        Assert.Equal("shoes", RoundTrip(new SearchQuery { Text = "red shoes", Category = "shoes", TsMs = 3 }, encoding).Category);

        var knowledge = RoundTrip(new ItemKnowledge
        {
            ItemId = "x",
            ContentHash = "h",
            Demand = [new KnowledgeDimension { Label = "occasion", Keywords = ["gift"], Evidence = ["gift box"], Analysis = "a" }],
            Attribute = [new KnowledgeDimension { Label = "material", Keywords = ["ceramic"] }],
            Vector = [0.5f, -1f],
            SemanticId = [3, 7, 250],
            TsMs = 1,
        }, encoding);
        Assert.Equal(("gift", "ceramic", -1f, 250), (knowledge.Demand[0].Keywords[0], knowledge.Attribute[0].Keywords[0], knowledge.Vector[1], knowledge.SemanticId[2]));

        var sequence = RoundTrip(new SequenceUpdate
        {
            UserId = "u",
            SequenceVersion = 4,
            Variant = "TDCD",
            Window = [new SequenceEntry { ItemId = "a", TsMs = 1, Category = "c" }],
            Gaps = [new SequenceGap { Position = 0, Reasons = [GapReason.TD, GapReason.RANK], DeltaMs = 10, Rank = 77 }],
            LabeledPositions = [new LabeledPosition { Position = 0, Delta = 1.5 }],
            TsMs = 2,
        }, encoding);
        Assert.Equal([GapReason.TD, GapReason.RANK], sequence.Gaps[0].Reasons);
        Assert.Equal(1.5, sequence.LabeledPositions[0].Delta);

        var augmented = RoundTrip(new AugmentedSequence
        {
            UserId = "u",
            Observed = ["a", "b"],
            Filled = [new FilledPosition { Position = 1, Vector = [1f], Nearest = [new NearestItem { ItemId = "c", Score = 0.9f }] }],
            TsMs = 1,
        }, encoding);
        Assert.Equal("c", augmented.Filled[0].Nearest[0].ItemId);

        Assert.Equal(0.71, RoundTrip(new ModelVersion { ModelName = "ctr", Version = 2, Metrics = new() { ["auc"] = 0.71 }, CheckpointRef = "pg:1", TsMs = 1 }, encoding).Metrics["auc"]);

        var letter = RoundTrip(new DeadLetter { SourceTopic = "t", SourcePartition = 2, SourceOffset = 40, Value = [1, 2, 3], ErrorClass = "validation", Message = "m", TsMs = 1 }, encoding);
        Assert.Equal(new byte[] { 1, 2, 3 }, letter.Value);
        Assert.Null(letter.Key);
    }

    [Fact]
    public void A_click_written_with_schema_v1_is_read_by_the_current_schema()
    {
        var v1 = SchemaCatalog.Files.Single(f => f.Resource == "schemas/history/click-event.v1.avsc");
        var writerSchema = (RecordSchema)Schema.Parse(v1.Json);
        var record = new GenericRecord(writerSchema);
        record.Add("event_id", "e-old");
        record.Add("user_id", "12346");
        record.Add("item_id", "23166");
        record.Add("ts_ms", 1_295_000_000_000L);
        record.Add("action", new GenericEnum((EnumSchema)writerSchema["action"].Schema, "CART"));

        using var stream = new MemoryStream();
        stream.Write([0xC3, 0x01]);
        Span<byte> fingerprint = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(fingerprint, SchemaNormalization.ParsingFingerprint64(writerSchema));
        stream.Write(fingerprint);
        new GenericDatumWriter<GenericRecord>(writerSchema).Write(record, new BinaryEncoder(stream));

        var click = new AvroSerde<ClickEvent>().Deserialize(stream.ToArray());

        Assert.Equal(("e-old", "12346", ClickAction.CART), (click.EventId, click.UserId, click.Action));
        Assert.Empty(click.Context); // the field v2 added takes its default
        Assert.NotEqual(SchemaCatalog.Fingerprint(writerSchema), SchemaCatalog.Fingerprint(ClickEvent._SCHEMA));
    }

    [Fact]
    public void A_dead_letter_written_with_schema_v1_is_read_by_the_current_schema()
    {
        var v1 = SchemaCatalog.Files.Single(f => f.Resource == "schemas/history/dead-letter.v1.avsc");
        var writerSchema = (RecordSchema)Schema.Parse(v1.Json);
        var record = new GenericRecord(writerSchema);
        record.Add("source_topic", "reaseq.clicks");
        record.Add("source_partition", 3);
        record.Add("source_offset", 41L);
        record.Add("key", new byte[] { 1 });
        record.Add("value", new byte[] { 0x42, 0x43 });
        record.Add("error_class", ErrorClasses.UnknownEncoding);
        record.Add("message", "m");
        record.Add("processor", "ingest-clicks");
        record.Add("ts_ms", 7L);

        using var stream = new MemoryStream();
        stream.Write([0xC3, 0x01]);
        Span<byte> fingerprint = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(fingerprint, SchemaNormalization.ParsingFingerprint64(writerSchema));
        stream.Write(fingerprint);
        new GenericDatumWriter<GenericRecord>(writerSchema).Write(record, new BinaryEncoder(stream));

        var letter = new AvroSerde<DeadLetter>().Deserialize(stream.ToArray());

        Assert.Equal(("reaseq.clicks", 41L), (letter.SourceTopic, letter.SourceOffset));
        Assert.Equal(new byte[] { 0x42, 0x43 }, letter.Value);
        // The fields v2 added take their defaults.
        Assert.Equal((null, null, false), (letter.ValueBytes, letter.ValueSha256, letter.ValueTruncated));
        Assert.NotEqual(SchemaCatalog.Fingerprint(writerSchema), SchemaCatalog.Fingerprint(DeadLetter._SCHEMA));

        var current = RoundTrip(new DeadLetter { SourceTopic = "t", ValueBytes = 2_000_000, ValueSha256 = "ab", ValueTruncated = true, ErrorClass = "e", Message = "m" }, "single-object");
        Assert.Equal((2_000_000, "ab", true), (current.ValueBytes, current.ValueSha256, current.ValueTruncated));
    }

    [Fact]
    public void Readers_accept_both_framings_whatever_they_write()
    {
        var click = new ClickEvent { EventId = "e", UserId = "u", ItemId = "i", TsMs = 1, Action = ClickAction.CLICK };
        var registry = new InMemoryRegistry();
        var confluentBytes = new AvroSerde<ClickEvent>(registry).Serialize(click);
        var singleObjectBytes = new AvroSerde<ClickEvent>().Serialize(click);

        Assert.Equal("e", new AvroSerde<ClickEvent>(registry).Deserialize(singleObjectBytes).EventId);
        var error = Assert.Throws<ContractException>(() => new AvroSerde<ClickEvent>().Deserialize(confluentBytes));
        Assert.Equal(ErrorClasses.UnknownSchema, error.ErrorClass);
        Assert.Contains("no schema registry", error.Message);
    }

    [Fact]
    public void Bad_bytes_fail_with_a_class_and_a_reason()
    {
        var serde = new AvroSerde<ClickEvent>();
        var valid = serde.Serialize(new ClickEvent { EventId = "e", UserId = "u", ItemId = "i", TsMs = 1, Action = ClickAction.BUY });

        Assert.Equal(ErrorClasses.Empty, Assert.Throws<ContractException>(() => serde.Deserialize([])).ErrorClass);
        Assert.Equal(ErrorClasses.UnknownEncoding, Assert.Throws<ContractException>(() => serde.Deserialize("hello"u8.ToArray())).ErrorClass);
        Assert.Equal(ErrorClasses.Malformed, Assert.Throws<ContractException>(() => serde.Deserialize(valid[..^3])).ErrorClass);
        Assert.Equal(ErrorClasses.Malformed, Assert.Throws<ContractException>(() => serde.Deserialize([.. valid, 0, 0])).ErrorClass);

        var wrongSchema = new AvroSerde<ItemUpdate>().Serialize(new ItemUpdate { ItemId = "x", Title = "t", TsMs = 1 });
        Assert.Equal(ErrorClasses.UnknownSchema, Assert.Throws<ContractException>(() => serde.Deserialize(wrongSchema)).ErrorClass);

        var unknownFingerprint = (byte[])valid.Clone();
        unknownFingerprint[5] ^= 0xFF;
        Assert.Equal(ErrorClasses.UnknownSchema, Assert.Throws<ContractException>(() => serde.Deserialize(unknownFingerprint)).ErrorClass);

        // A hostile length prefix claiming a 1 GB string must fail at once instead of allocating.
        byte[] hostile = [.. valid[..10], 0x80, 0x80, 0x80, 0x80, 0x08, (byte)'x'];
        var hostileError = Assert.Throws<ContractException>(() => serde.Deserialize(hostile));
        Assert.Contains("exceeds", hostileError.Message);

        // An enum index beyond the known symbols is rejected.
        var badEnum = (byte[])valid.Clone();
        var actionIndex = Array.LastIndexOf(badEnum, (byte)4); // BUY = 2, zigzag 4; followed by the empty context map (0)
        badEnum[actionIndex] = 20;
        Assert.Equal(ErrorClasses.Malformed, Assert.Throws<ContractException>(() => serde.Deserialize(badEnum)).ErrorClass);
    }
}
