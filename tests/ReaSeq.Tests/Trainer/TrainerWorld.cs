using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Models.Ctr;
using ReaSeq.Processors.Trainer;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Trainer;

/// <summary>
/// A small CTR world written straight into the platform's tables (items, item_knowledge, user_clicks), as the ingest
/// and knowledge roles would leave them: items of two topics, users who click one topic, impressions labeled by topic.
/// </summary>
internal static class TrainerWorld
{
    public const long T0 = 1_700_000_000_000;
    public const int Dim = 16;

    public static TrainerOptions Options(int versionIntervalMs = 500) => new()
    {
        BatchSize = 32,
        VersionIntervalMs = versionIntervalMs,
        EvaluationWindow = 1_000,
        Model = CtrModelFactory.SmallOptions(),
    };

    public static CtrTrainerProcessor NewProcessor(TestPlatform platform, TrainerOptions options, TrainerMetrics? metrics = null) =>
        new(new AvroSerde<LabeledImpression>(), platform.Validator, platform.Kafka, platform.DeadLetters,
            new PostgresFeatureSource(platform.Db, options), new CtrRegistry(platform.Db), metrics ?? new TrainerMetrics(), options,
            platform.KafkaOptions, NullLogger<CtrTrainerProcessor>.Instance);

    public static float[] Vector(int item)
    {
        var random = new Random(item);
        int topic = item % 2;
        return Enumerable.Range(0, Dim).Select(d => (d % 2 == topic ? 1f : 0f) + (float)(random.NextDouble() * 0.4 - 0.2)).ToArray();
    }

    public static async Task SeedItemsAsync(NpgsqlDataSource db, int items, long knownAt = T0)
    {
        for (int i = 0; i < items; i++)
        {
            await using var item = db.CreateCommand(
                "insert into items (item_id, title, description, category_path, attributes, price, ts_ms) values ($1, $1, '', $2, '{}'::jsonb, $3, $4)");
            item.Parameters.AddWithValue($"i{i}");
            item.Parameters.AddWithValue(new[] { $"topic{i % 2}" });
            item.Parameters.AddWithValue(1.5 + i);
            item.Parameters.AddWithValue(knownAt);
            await item.ExecuteNonQueryAsync();
            await using var knowledge = db.CreateCommand(
                "insert into item_knowledge (item_id, content_hash, category, category_assigned, demand, attribute, vector, semantic_id, " +
                "semantic_id_version, taxonomy_version, prompt_version, backend, encoder, ts_ms) " +
                "values ($1, 'h', 'c', false, '[]'::jsonb, '[]'::jsonb, $2, $3, 'sid-test', 't', 'p', 'b', 'e', $4)");
            knowledge.Parameters.AddWithValue($"i{i}");
            knowledge.Parameters.AddWithValue(Vector(i));
            knowledge.Parameters.AddWithValue(new[] { i % 2, i % 7 });
            knowledge.Parameters.AddWithValue(knownAt);
            await knowledge.ExecuteNonQueryAsync();
        }
    }

    public static async Task ClickAsync(NpgsqlDataSource db, string user, long seq, string item, long tsMs)
    {
        await using var cmd = db.CreateCommand(
            "insert into user_clicks (user_id, seq, event_id, item_id, ts_ms, action, kafka_partition) values ($1, $2, $3, $4, $5, 0, 0)");
        cmd.Parameters.AddWithValue(user);
        cmd.Parameters.AddWithValue(seq);
        cmd.Parameters.AddWithValue($"{user}-{seq}");
        cmd.Parameters.AddWithValue(item);
        cmd.Parameters.AddWithValue(tsMs);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Users u0..u{n-1}: user u's topic is u % 2; each has 6 clicks of its topic before T0 + 10 s.</summary>
    public static async Task SeedUsersAsync(NpgsqlDataSource db, int users, int items)
    {
        for (int u = 0; u < users; u++)
        {
            for (int k = 0; k < 6; k++) await ClickAsync(db, $"u{u}", k, $"i{(2 * (u + k) + u % 2) % items}", T0 + 1_000 + k * 1_000);
        }
    }

    /// <summary>Impressions after the clicks: a user's own-topic item is clicked, the other topic's is not.</summary>
    public static List<LabeledImpression> Impressions(int count, int users, int items, int seed, long start = T0 + 20_000)
    {
        var random = new Random(seed);
        var result = new List<LabeledImpression>(count);
        for (int n = 0; n < count; n++)
        {
            int user = random.Next(users), item = random.Next(items);
            result.Add(new LabeledImpression
            {
                ImpressionId = $"imp-{seed}-{n}",
                UserId = $"u{user}",
                ItemId = $"i{item}",
                TsMs = start + n,
                Label = item % 2 == user % 2 ? 1 : 0,
            });
        }
        return result;
    }

    public static List<ConsumeResult<byte[]?, byte[]?>> Records(IReadOnlyList<LabeledImpression> impressions, long firstOffset)
    {
        var serde = new AvroSerde<LabeledImpression>();
        return impressions.Select((impression, i) => new ConsumeResult<byte[]?, byte[]?>
        {
            Topic = Topics.Impressions,
            Partition = new Partition(0),
            Offset = new Offset(firstOffset + i),
            Message = new Message<byte[]?, byte[]?>
            {
                Key = System.Text.Encoding.UTF8.GetBytes(impression.UserId),
                Value = serde.Serialize(impression),
                Timestamp = new Timestamp(DateTime.UtcNow),
            },
        }).ToList();
    }
}
