using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Streaming;

/// <summary>
/// The ingest and sequence roles judge clicks by the same rules (the one ContractValidator, keys included): they
/// dead-letter the same records with the same reasons, and neither accepts what the other rejects.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class SharedValidationTests(PostgresFixture postgres)
{
    private const long Start = 1_600_000_000_000;

    private static ClickEvent Click(string id, string user, string item, long ts) => new()
    {
        EventId = id,
        UserId = user,
        ItemId = item,
        TsMs = ts,
        Action = ClickAction.CLICK,
        Context = new() { ["category"] = "toys" },
    };

    private static List<DeadLetter> Letters(TestPlatform platform, int expected) =>
        platform.ReadAll(Topics.DeadLetters, expected, TimeSpan.FromSeconds(20)).Select(r => new AvroSerde<DeadLetter>().Deserialize(r.Message.Value)).ToList();

    private static List<SequenceUpdate> Updates(TestPlatform platform, int expected) =>
        platform.ReadAll(Topics.SequenceGaps, expected, TimeSpan.FromSeconds(20)).Select(r => new AvroSerde<SequenceUpdate>().Deserialize(r.Message.Value)).ToList();

    [Fact]
    public async Task A_click_keyed_by_another_user_is_dead_lettered_by_both_roles_and_never_joins_a_sequence()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        var serde = new AvroSerde<ClickEvent>();
        platform.Producer.Produce(Topics.Clicks, "alice", Click("a1", "alice", "kite", Start));
        platform.Producer.Produce(Topics.Clicks, "bob", Click("a2", "alice", "stray", Start + 60_000));            // keyed by another user
        platform.Producer.ProduceRaw(Topics.Clicks, null, serde.Serialize(Click("a3", "alice", "stray", Start + 90_000))); // no key at all
        platform.Producer.Produce(Topics.Clicks, "alice", Click("a4", "alice", "ball", Start + 120_000));
        platform.Producer.Flush();

        var sequence = platform.NewSequenceProcessor();
        platform.Run(platform.NewClickIngestor(), "ingest");
        platform.Run(sequence, "sequence");
        await TestPlatform.WaitUntilAsync(async () => platform.Stats.For(Topics.Clicks).Consumed == 4 && sequence.Consumed == 4
                && await platform.ScalarAsync("select count(*) from user_clicks") >= 2,
            TimeSpan.FromSeconds(30), "both roles consumed every click");

        Assert.Equal(["ball", "kite"], (await ItemsOfAsync(platform, "alice")).Order());
        var letters = Letters(platform, 4);
        foreach (var processor in new[] { "ingest-clicks", "sequence" })
        {
            var mine = letters.Where(l => l.Processor == processor).ToList();
            Assert.Equal(2, mine.Count);
            Assert.All(mine, l => Assert.Equal(ErrorClasses.KeyMismatch, l.ErrorClass));
            Assert.Contains(mine, l => l.Message.Contains("'bob'") && l.Message.Contains("'alice'"));
            Assert.Contains(mine, l => l.Message.Contains("no key"));
        }
        var updates = Updates(platform, 1);
        Assert.NotEmpty(updates);
        Assert.All(updates, u => Assert.DoesNotContain(u.Window, e => e.ItemId == "stray"));
        Assert.Equal(2, updates.Max(u => u.SequenceVersion));
    }

    [Fact]
    public async Task The_sequence_role_rejects_what_ingest_rejects_with_the_same_reasons_and_a_far_future_click_never_moves_its_clock()
    {
        await using var platform = await TestPlatform.StartAsync(postgres);
        var serde = new AvroSerde<ClickEvent>();
        var farFuture = DateTimeOffset.UtcNow.AddYears(5).ToUnixTimeMilliseconds();
        platform.Producer.Produce(Topics.Clicks, "alice", Click("a1", "alice", "kite", Start));
        platform.Producer.Produce(Topics.Clicks, "alice", Click("a2", "alice", "time-machine", farFuture));
        platform.Producer.Produce(Topics.Clicks, "alice", Click("a3", "alice", "ball", Start + 60_000));
        platform.Producer.Produce(Topics.Clicks, "alice", Click("a4", "alice", "yoyo", Start + 120_000));
        // What ingest rejects for other reasons: undecodable bytes, a missing item id, an oversized context value.
        platform.Producer.ProduceRaw(Topics.Clicks, "alice"u8.ToArray(), "not avro"u8.ToArray());
        platform.Producer.Produce(Topics.Clicks, "alice", Click("a5", "alice", "", Start + 130_000));
        var noisy = Click("a6", "alice", "drum", Start + 140_000);
        noisy.Context["note"] = new string('!', 5_000);
        platform.Producer.Produce(Topics.Clicks, "alice", noisy);
        platform.Producer.Flush();

        var sequence = platform.NewSequenceProcessor();
        platform.Run(platform.NewClickIngestor(), "ingest");
        platform.Run(sequence, "sequence");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(platform.Stats.For(Topics.Clicks).Consumed == 7 && sequence.Consumed == 7),
            TimeSpan.FromSeconds(30), "both roles consumed every click");

        var letters = Letters(platform, 8);
        // Same records, classes and reasons (the far-future message names the wall clock of its check: compared without it).
        var ingest = letters.Where(l => l.Processor == "ingest-clicks").OrderBy(l => l.SourceOffset).Select(l => (l.SourceOffset, l.ErrorClass, Message: Reason(l))).ToList();
        var sequenced = letters.Where(l => l.Processor == "sequence").OrderBy(l => l.SourceOffset).Select(l => (l.SourceOffset, l.ErrorClass, Message: Reason(l))).ToList();
        Assert.Equal(4, ingest.Count);
        Assert.Equal(ingest, sequenced);
        Assert.Contains(sequenced, l => l.ErrorClass == ErrorClasses.Validation && l.Message.Contains("far future"));
        Assert.Contains(sequenced, l => l.ErrorClass == ErrorClasses.UnknownEncoding);
        Assert.DoesNotContain(sequenced, l => l.ErrorClass == ErrorClasses.OutOfOrder);

        // The far-future click never entered alice's sequence: the later clicks are in order, not "too late".
        var newest = Updates(platform, 1).MaxBy(u => u.SequenceVersion)!;
        Assert.Equal(3, newest.SequenceVersion);
        Assert.Equal(["kite", "ball", "yoyo"], newest.Window.Select(e => e.ItemId));
        Assert.Equal(Start + 120_000, newest.TsMs);
        Assert.Equal(["kite", "ball", "yoyo"], await ItemsOfAsync(platform, "alice"));
    }

    private static string Reason(DeadLetter letter) => letter.Message.Split(" (latest accepted")[0];

    private static async Task<List<string>> ItemsOfAsync(TestPlatform platform, string user)
    {
        var items = new List<string>();
        await using var cmd = platform.Db.CreateCommand("select item_id from user_clicks where user_id = $1 order by seq");
        cmd.Parameters.AddWithValue(user);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) items.Add(reader.GetString(0));
        return items;
    }
}
