using System.Buffers.Binary;
using System.Security.Cryptography;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Ingest;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Streaming;

/// <summary>
/// A record that cannot be accepted is dead-lettered whatever it looks like, and the valid records after it on its
/// partition are ingested: a poison pill never stalls a partition.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class PoisonPillTests(PostgresFixture postgres)
{
    private static ClickEvent Click(int i) => new()
    {
        EventId = $"ev-{i}",
        UserId = "user-1",
        ItemId = $"item-{i}",
        TsMs = 1_600_000_000_000 + i * 60_000L,
        Action = ClickAction.CLICK,
    };

    private static List<DeadLetter> Letters(TestPlatform platform, int expected) =>
        platform.ReadAll(Topics.DeadLetters, expected, TimeSpan.FromSeconds(20)).Select(r => new AvroSerde<DeadLetter>().Deserialize(r.Message.Value)).ToList();

    [Fact]
    public async Task An_invalid_record_near_the_broker_size_limit_is_dead_lettered_truncated_with_its_size_and_hash()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        // Just under the 1,000,000-byte message limit: the record itself fits, a letter carrying all of it would not.
        var poison = new byte[999_950];
        new Random(3).NextBytes(poison);
        poison[0] = 0x42;
        platform.Producer.Produce(Topics.Clicks, "user-1", Click(0));
        platform.Producer.ProduceRaw(Topics.Clicks, "user-1"u8.ToArray(), poison);
        for (var i = 1; i <= 3; i++) platform.Producer.Produce(Topics.Clicks, "user-1", Click(i));
        platform.Producer.Flush();
        Assert.Equal(0, platform.Producer.Failed);

        platform.Run(platform.NewClickIngestor(), "poison");
        await TestPlatform.WaitUntilAsync(async () => await platform.ScalarAsync("select count(*) from user_clicks") == 4,
            TimeSpan.FromSeconds(30), "the clicks around the poison record stored");

        var letter = Assert.Single(Letters(platform, 1));
        Assert.Equal(ErrorClasses.UnknownEncoding, letter.ErrorClass);
        Assert.Equal(64 * 1024, letter.Value!.Length);
        Assert.Equal(poison[..(64 * 1024)], letter.Value);
        Assert.True(letter.ValueTruncated);
        Assert.Equal(poison.Length, letter.ValueBytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(poison)), letter.ValueSha256);
        Assert.Contains("truncated", letter.Message);
        Assert.True(platform.Health.IsHealthy);
    }

    [Fact]
    public async Task A_record_with_a_schema_id_the_registry_does_not_know_is_dead_lettered_and_the_partition_moves_on()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        using var server = new ScriptedSchemaRegistry();
        using var registry = new ConfluentSchemaRegistry(server.Url, TimeSpan.FromSeconds(5));
        var serde = new AvroSerde<ClickEvent>(registry);
        var unknownId = serde.Serialize(Click(100));
        BinaryPrimitives.WriteInt32BigEndian(unknownId.AsSpan(1), 999);

        platform.Producer.ProduceRaw(Topics.Clicks, "user-1"u8.ToArray(), serde.Serialize(Click(0)));
        platform.Producer.ProduceRaw(Topics.Clicks, "user-1"u8.ToArray(), unknownId);
        platform.Producer.ProduceRaw(Topics.Clicks, "user-1"u8.ToArray(), serde.Serialize(Click(1)));
        platform.Producer.Flush();

        var ingestor = new ClickIngestor(serde, platform.Validator, platform.DeadLetters, new PostgresClickSequenceStore(platform.Db), platform.Stats,
            platform.KafkaOptions, platform.IngestOptions);
        platform.Run(ingestor, "registry");
        await TestPlatform.WaitUntilAsync(async () => await platform.ScalarAsync("select count(*) from user_clicks") == 2,
            TimeSpan.FromSeconds(30), "the clicks around the unknown schema id stored");

        var letter = Assert.Single(Letters(platform, 1));
        Assert.Equal(ErrorClasses.UnknownSchema, letter.ErrorClass);
        Assert.Contains("999", letter.Message);
        Assert.Equal(unknownId, letter.Value);
    }
}
