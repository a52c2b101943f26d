using System.Diagnostics;
using System.Security.Cryptography;
using Confluent.Kafka;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.KnowledgeStreaming;

namespace ReaSeq.Tests.Chaos;

/// <summary>
/// The inputs, the role configuration and the comparisons the chaos scenarios share. Every input record is a pure
/// function of its index, so a faulted run and an uninterrupted run read the same log, and the expected end state is known.
/// </summary>
public sealed class ChaosWorld(TestPlatform platform)
{
    public const int Users = 150;
    private const long BaseTs = 1_600_000_000_000;
    private static readonly string[] Categories = ["toys", "garden", "kitchen", "lights"];

    public TestPlatform Platform { get; } = platform;

    public string Folder { get; } = Directory.CreateTempSubdirectory("reaseq-chaos-").FullName;

    // ---- clicks (ingest and sequence roles) ----

    /// <summary>Every 20th position repeats the event 201 places earlier (same id, same user): a duplicate both runs drop.</summary>
    public static int ClickIdAt(int position) => position % 20 == 19 && position >= 201 ? position - 201 : position;

    /// <summary>The click with this id: users hashed, mostly minutes apart with an hours-long gap every 400 ids (temporal gaps).</summary>
    public static ClickEvent Click(int id)
    {
        var user = (int)((uint)(id * 2654435761u) % Users);
        var item = (id * 13 + user) % 400;
        return new ClickEvent
        {
            EventId = $"e{id}",
            UserId = $"u{user}",
            ItemId = $"i{item}",
            TsMs = BaseTs + id * 15_000L + id / 400 * 4_000_000L + id * 37 % 10_000,
            Action = ClickAction.CLICK,
            Context = new() { ["category"] = Categories[item % Categories.Length] },
        };
    }

    /// <summary>Distinct click ids among the first <paramref name="positions"/> positions: what both roles accept.</summary>
    public static int AcceptedClicks(int positions) => Enumerable.Range(0, positions).Select(ClickIdAt).Distinct().Count();

    public void ProduceClicks(int from, int to, ContractProducer? producer = null)
    {
        producer ??= Platform.Producer;
        for (var i = from; i < to; i++)
        {
            var click = Click(ClickIdAt(i));
            producer.Produce(Topics.Clicks, click.UserId, click);
        }
        producer.Flush();
    }

    /// <summary>`reaseq run` settings for the ingest and sequence roles: small batches (many transactions to die in), 1 s checkpoints.</summary>
    public Dictionary<string, string> ClickEnvironment(string connectionString, string group, string gapsTopic) => WithKafkaDebug(new()
    {
        ["REASEQ__Kafka__BootstrapServers"] = Platform.Broker.BootstrapServers,
        ["REASEQ__Postgres__ConnectionString"] = connectionString,
        ["REASEQ__Kafka__GroupPrefix"] = group,
        ["REASEQ__Kafka__MaxBatchSize"] = "300",
        ["REASEQ__Sequence__Processor__OutputTopic"] = gapsTopic,
        ["REASEQ__Sequence__Processor__CheckpointIntervalMs"] = "1000",
    });

    /// <summary>
    /// REASEQ_CHAOS_KAFKA_DEBUG (e.g. "cgrp,consumer"): the role processes log librdkafka's own debug contexts, to see what
    /// a consumer group is doing when a scenario stalls.
    /// </summary>
    public static Dictionary<string, string> WithKafkaDebug(Dictionary<string, string> environment)
    {
        if (Environment.GetEnvironmentVariable("REASEQ_CHAOS_KAFKA_DEBUG") is { Length: > 0 } debug) environment["REASEQ__Kafka__Client__debug"] = debug;
        return environment;
    }

    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        await using var cmd = db.CreateCommand(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    public static async Task<List<string>> RowsAsync(string connectionString, string sql)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        await using var cmd = db.CreateCommand(sql);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    public static Task<long> ClickRowsAsync(string connectionString) => ScalarAsync(connectionString, "select count(*) from user_clicks");

    /// <summary>The ingest role's state, every column but none of wall-clock time.</summary>
    public static Task<List<string>> ClickStateAsync(string connectionString) => RowsAsync(connectionString,
        "select user_id || '|' || seq || '|' || event_id || '|' || item_id || '|' || ts_ms || '|' || action || '|' || kafka_partition from user_clicks order by user_id, seq");

    /// <summary>Records in a topic (sum of the partitions' high watermarks): cheap progress of a publishing role.</summary>
    public long Published(string topic)
    {
        using var consumer = Platform.Kafka.CreateConsumer("watermarks-" + Guid.NewGuid().ToString("N"), "watermarks");
        return Enumerable.Range(0, Platform.KafkaOptions.Partitions)
            .Sum(p => Math.Max(0, consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value));
    }

    public static SequenceUpdate Update(ConsumeResult<byte[]?, byte[]?> record) => new AvroSerde<SequenceUpdate>().Deserialize(record.Message.Value);

    /// <summary>Clicks covered by the newest update of every user (each user's versions count its accepted clicks).</summary>
    public long SequenceCoverage(string topic) =>
        Platform.ReadToEnd(topic).Select(Update).GroupBy(u => u.UserId).Sum(g => g.Max(u => u.SequenceVersion));

    /// <summary>
    /// T is frozen per domain and epoch from the partitions' sketches when first needed, and recorded: outputs are a
    /// pure function of the input and that record. The uninterrupted reference run is given the faulted run's record
    /// (see SequenceRoleTests for why).
    /// </summary>
    public static async Task<int> CopyThresholdsAsync(string fromDb, string fromGroup, string toDb, string toGroup)
    {
        await using var from = NpgsqlDataSource.Create(fromDb);
        await using var to = NpgsqlDataSource.Create(toDb);
        await using var read = from.CreateCommand("select domain, epoch, threshold_ms, gaps, data_driven from sequence_thresholds where consumer_group = $1");
        read.Parameters.AddWithValue(fromGroup + ".sequence");
        await using var rows = await read.ExecuteReaderAsync();
        var copied = 0;
        while (await rows.ReadAsync())
        {
            await using var copy = to.CreateCommand(
                "insert into sequence_thresholds (consumer_group, domain, epoch, threshold_ms, gaps, data_driven) values ($1, $2, $3, $4, $5, $6)");
            copy.Parameters.AddWithValue(toGroup + ".sequence");
            for (var i = 0; i < 5; i++) copy.Parameters.AddWithValue(rows.GetValue(i));
            copied += await copy.ExecuteNonQueryAsync();
        }
        return copied;
    }

    /// <summary>
    /// A category's taxonomy is built once per deployment from the items its corpus holds when the category is first
    /// needed (paper §2.1.1), and recorded; every later item of the category is reasoned against that record. How many
    /// items the corpus held at that moment is timing (batch boundaries, how far the ingest role got), so the
    /// uninterrupted reference run is given the faulted run's record, as it is given the sequence role's T.
    /// </summary>
    public static Task<int> CopyTaxonomiesAsync(string fromDb, string toDb) => CopyRowsAsync(fromDb, toDb,
        "select category, prompt_version, backend, version, body::text, generation from taxonomies",
        "insert into taxonomies (category, prompt_version, backend, version, body, generation) values ($1, $2, $3, $4, $5::jsonb, $6)");

    /// <summary>Copies every row <paramref name="select"/> reads into <paramref name="insert"/> ($1, $2, … the columns in order); returns how many.</summary>
    public static async Task<int> CopyRowsAsync(string fromDb, string toDb, string select, string insert)
    {
        await using var from = NpgsqlDataSource.Create(fromDb);
        await using var to = NpgsqlDataSource.Create(toDb);
        await using var read = from.CreateCommand(select);
        await using var rows = await read.ExecuteReaderAsync();
        var copied = 0;
        while (await rows.ReadAsync())
        {
            await using var copy = to.CreateCommand(insert);
            for (var i = 0; i < rows.FieldCount; i++) copy.Parameters.AddWithValue(rows.GetValue(i));
            copied += await copy.ExecuteNonQueryAsync();
        }
        return copied;
    }

    /// <summary>Rows of the reference state missing from the faulted state are lost; rows only the faulted state has differ.</summary>
    public static void CompareRows(IReadOnlyCollection<string> reference, IReadOnlyCollection<string> faulted, ScenarioResult result)
    {
        var faultedSet = faulted.ToHashSet(StringComparer.Ordinal);
        var referenceSet = reference.ToHashSet(StringComparer.Ordinal);
        result.RecordsLost += referenceSet.Count(r => !faultedSet.Contains(r));
        result.NonIdenticalDuplicates += faultedSet.Count(r => !referenceSet.Contains(r)) + (faulted.Count - faultedSet.Count);
    }

    /// <summary>
    /// Sequence updates: an update is a pure function of (user, version). The faulted run may repeat one (identical
    /// bytes) and publishes other intermediate versions (its batches fall elsewhere), but where both runs published a
    /// version the bytes agree, and every user's newest update is identical.
    /// </summary>
    public static void CompareUpdates(List<ConsumeResult<byte[]?, byte[]?>> reference, List<ConsumeResult<byte[]?, byte[]?>> faulted, ScenarioResult result) =>
        CompareVersions(reference, faulted, result, r =>
        {
            var update = Update(r);
            return (update.UserId, update.SequenceVersion);
        }, everyVersion: false);

    /// <summary>
    /// Records that are a pure function of their (key, version): where both runs published a version the bytes agree,
    /// and repeats are byte-identical. Lost: a key whose newest record is missing or differs, and with
    /// <paramref name="everyVersion"/> (a role that publishes one output per input) also every version the reference
    /// published that the faulted run did not.
    /// </summary>
    public static void CompareVersions(List<ConsumeResult<byte[]?, byte[]?>> reference, List<ConsumeResult<byte[]?, byte[]?>> faulted, ScenarioResult result,
                                       Func<ConsumeResult<byte[]?, byte[]?>, (string Key, long Version)> keyOf, bool everyVersion)
    {
        Dictionary<(string Key, long Version), List<string>> ByVersion(List<ConsumeResult<byte[]?, byte[]?>> records) =>
            records.Select(r => (Key: keyOf(r), Hash: Convert.ToHexString(SHA256.HashData(r.Message.Value!))))
                .GroupBy(x => x.Key).ToDictionary(g => g.Key, g => g.Select(x => x.Hash).ToList());
        static Dictionary<string, string> Newest(Dictionary<(string Key, long Version), List<string>> d) =>
            d.GroupBy(kv => kv.Key.Key).ToDictionary(g => g.Key, g => g.MaxBy(kv => kv.Key.Version).Value[0]);
        var clean = ByVersion(reference);
        var after = ByVersion(faulted);
        foreach (var (key, hashes) in after)
        {
            var distinct = hashes.Distinct().Count();
            result.NonIdenticalDuplicates += distinct - 1;
            result.IdenticalRepeats += hashes.Count - distinct;
            if (clean.TryGetValue(key, out var expected) && expected[0] != hashes[0]) result.NonIdenticalDuplicates++;
        }
        var newestAfter = Newest(after);
        result.RecordsLost += Newest(clean).Count(kv => !newestAfter.TryGetValue(kv.Key, out var hash) || hash != kv.Value);
        if (!everyVersion) return;
        // Every other version too (the newest ones are counted above).
        var newestVersion = clean.Keys.GroupBy(k => k.Key).ToDictionary(g => g.Key, g => g.Max(k => k.Version));
        result.RecordsLost += clean.Keys.Count(k => k.Version != newestVersion[k.Key] && !after.ContainsKey(k));
    }

    // ---- item updates (knowledge role) ----

    /// <summary>
    /// Item <paramref name="id"/>: apparel and kitchen items with attributes, and Online Retail-style titles. A
    /// <paramref name="revision"/> above 0 is a later version of the same item (changed title, later time).
    /// </summary>
    public static ItemUpdate Item(int id, int revision = 0)
    {
        string[] colours = ["red", "navy blue", "black", "white", "forest green", "grey"];
        string[] fabrics = ["100% cotton", "organic cotton", "linen blend", "polyester fleece", "merino wool"];
        string[] metals = ["stainless steel", "cast iron", "aluminium", "carbon steel", "copper"];
        string colour = colours[id % colours.Length], fabric = fabrics[id / 3 % fabrics.Length], metal = metals[id / 2 % metals.Length];
        var extra = revision == 0 ? "" : $" edition {revision}";
        var update = (id % 4) switch
        {
            0 => KnowledgeStreamTestData.Update($"tee-{id}", $"{colour} {fabric} t-shirt{extra}", $"Breathable {fabric} tee for summer days.",
                ["Apparel", "Tops"], ("material", fabric), ("colour", colour)),
            1 => KnowledgeStreamTestData.Update($"jeans-{id}", $"{colour} denim jeans{extra}", "Durable stretch denim jeans, five pockets.",
                ["Apparel", "Bottoms"], ("material", "cotton elastane denim"), ("colour", colour)),
            2 => KnowledgeStreamTestData.Update($"pan-{id}", $"{metal} frying pan {20 + id % 4 * 2} cm{extra}", $"Heavy {metal} pan that keeps heat for searing.",
                ["Kitchen", "Cookware"], ("material", metal), ("coating", id % 2 == 0 ? "non-stick" : "uncoated")),
            _ => KnowledgeStreamTestData.Update($"OR-{id}", $"{colour.ToUpperInvariant()} HANGING HEART T-LIGHT HOLDER{extra.ToUpperInvariant()}", "",
                ["Home", "Lighting"]),
        };
        update.TsMs = KnowledgeStreamTestData.BaseTs + id * 1_000L + revision * 10_000_000L;
        return update;
    }

    public Dictionary<string, string> KnowledgeEnvironment(string connectionString, string group, string outputTopic) => new()
    {
        ["REASEQ__Kafka__BootstrapServers"] = Platform.Broker.BootstrapServers,
        ["REASEQ__Postgres__ConnectionString"] = connectionString,
        ["REASEQ__Kafka__GroupPrefix"] = group,
        ["REASEQ__Knowledge__OutputTopic"] = outputTopic,
        ["REASEQ__Knowledge__MaxBatchItems"] = "16",
        // A rebuild (issue 8 E17) happens when a category's corpus has grown, which, like the first build, depends on
        // timing; unlike the first build it cannot be handed to the reference run (items before it keep the old
        // generation). The suite compares crash behaviour, so rebuilds are off here; they have tests of their own.
        ["REASEQ__Knowledge__Reasoner__RebuildGrowthFactor"] = "0",
        ["REASEQ__Knowledge__VectorStore__Path"] = Path.Combine(Folder, group, "items.idx"),
    };

    /// <summary>The knowledge role's state: everything of item_knowledge but its wall-clock column, and the taxonomies.</summary>
    public static async Task<List<string>> KnowledgeStateAsync(string connectionString)
    {
        var items = await RowsAsync(connectionString,
            "select concat_ws('|', item_id, content_hash, category, category_assigned, demand::text, attribute::text, vector::text, semantic_id::text, " +
            "semantic_id_version, taxonomy_version, prompt_version, backend, encoder, ts_ms) from item_knowledge order by item_id");
        var taxonomies = await RowsAsync(connectionString,
            "select concat_ws('|', category, prompt_version, backend, generation, version, body::text) from taxonomies order by category, prompt_version, backend, generation");
        return [.. items, .. taxonomies.Select(t => "taxonomy|" + t)];
    }

    /// <summary>Item knowledge: per item, the newest record is identical; a repeat of one item version carries the same bytes.</summary>
    public static void CompareKnowledge(List<ConsumeResult<byte[]?, byte[]?>> reference, List<ConsumeResult<byte[]?, byte[]?>> faulted, ScenarioResult result)
    {
        var serde = new AvroSerde<ItemKnowledge>();
        static string Hash(ConsumeResult<byte[]?, byte[]?> r) => Convert.ToHexString(SHA256.HashData(r.Message.Value!));
        Dictionary<string, string> Newest(List<ConsumeResult<byte[]?, byte[]?>> records) => records
            .OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value)
            .GroupBy(r => serde.Deserialize(r.Message.Value).ItemId).ToDictionary(g => g.Key, g => Hash(g.Last()));
        var newestAfter = Newest(faulted);
        result.RecordsLost += Newest(reference).Count(kv => !newestAfter.TryGetValue(kv.Key, out var hash) || hash != kv.Value);
        foreach (var version in faulted.GroupBy(r => { var k = serde.Deserialize(r.Message.Value); return (k.ItemId, k.ContentHash, k.SemanticIdVersion); }))
        {
            var distinct = version.Select(Hash).Distinct().Count();
            result.NonIdenticalDuplicates += distinct - 1;
            result.IdenticalRepeats += version.Count() - distinct;
        }
    }

    // ---- the kill loop ----

    /// <summary>
    /// Runs the roles, killing them with SIGKILL at <paramref name="kills"/> random points and restarting them, until
    /// <paramref name="done"/> holds. Before each life a new slice of input is produced (life k: slice k), so kills land
    /// mid-stream. A quarter of the kill points fall anywhere in the first 4 s of a process (start-up, group join,
    /// state loading); the rest 0-1.5 s after the process has moved past where the previous one stood. That wait, from
    /// the restart, is the recovery time (after a SIGKILL it includes the group's session timeout: the dead member holds
    /// its partitions until then).
    /// </summary>
    public async Task KillLoopAsync(ScenarioResult result, Random random, int kills, Func<int, RoleProcess> start, Action<int> produceSlice,
                                    Func<Task<long>> progress, Func<Task<string>> describe, Func<Task<bool>> done, TimeSpan doneTimeout)
    {
        long atKill = 0;
        for (var life = 0; life <= kills; life++)
        {
            await using var process = start(life);
            result.Runs++;
            var slice = life;
            var producing = Task.Run(() => produceSlice(slice));
            var early = life < kills && random.NextDouble() < 0.25;
            if (early)
            {
                await producing;
                var at = TimeSpan.FromMilliseconds(random.Next(0, 4_000));
                if (at > process.Age) await Task.Delay(at - process.Age);
            }
            else
            {
                var clock = Stopwatch.StartNew();
                var stood = atKill;
                await TestPlatform.WaitUntilAsync(async () =>
                {
                    process.AssertRunning("while recovering");
                    return await progress() > stood || await done();
                }, ChaosSettings.StallLimit, $"life {life} moves past {stood}: {process.Tail}");
                if (life > 0) result.Recovered(clock.Elapsed);
                await producing;
                if (life == kills)
                {
                    await TestPlatform.WaitUntilAsync(async () =>
                    {
                        process.AssertRunning("in its last life");
                        return await done();
                    }, doneTimeout, $"the last life completes the input: {process.Tail}");
                    await Task.Delay(1_000); // a late repeat would land now
                    return;
                }
                await Task.Delay(random.Next(0, 1_500));
            }
            process.AssertRunning("before its kill point");
            var age = (long)process.Age.TotalMilliseconds;
            await process.KillAsync();
            atKill = Math.Max(atKill, await progress());
            result.Kills.Add($"{age} ms: {await describe()}");
            result.KillPoints++;
        }
    }

    /// <summary>Runs the roles uninterrupted over the whole input until <paramref name="done"/>: the run every fault is compared with.</summary>
    public static async Task ReferenceRunAsync(ScenarioResult result, Func<RoleProcess> start, Func<Task<bool>> done, TimeSpan timeout)
    {
        await using var process = start();
        result.Runs++;
        await TestPlatform.WaitUntilAsync(async () =>
        {
            process.AssertRunning("in the reference run");
            return await done();
        }, timeout, $"the reference run completes: {process.Tail}");
        await Task.Delay(1_000);
    }
}
