using Npgsql;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tools.Bench;

namespace ReaSeq.Tests.Trainer;

/// <summary>
/// The trainer benchmark's freshness world keeps its signal in the database `make bench` shares between benchmarks:
/// another benchmark's users and items (u0…, i0…, written first) must not take the place of the world's rows, or the
/// trainer learns from features unrelated to the world's labels (prequential AUC at chance).
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class TrainerBenchmarkWorldTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Freshness_world_carries_its_label_signal_after_another_benchmark_seeded_the_database()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        const int items = 20, users = 6;
        // What the api benchmark writes first: its own catalog and random histories under plain ids.
        for (int i = 0; i < items; i++)
        {
            await using var item = db.CreateCommand(
                "insert into items (item_id, title, description, category_path, attributes, price, ts_ms) values ($1, $1, '', array['x'], '{}'::jsonb, 1, 1)");
            item.Parameters.AddWithValue($"i{i}");
            await item.ExecuteNonQueryAsync();
        }
        for (int u = 0; u < users; u++)
        {
            await using var clicks = db.CreateCommand(
                "insert into user_clicks (user_id, seq, event_id, item_id, ts_ms, action, kafka_partition) " +
                "select $1, s, $1 || '-' || s, 'i' || (s * 3 % $2), 1000 + s, 0, 0 from generate_series(0, 29) s");
            clicks.Parameters.AddWithValue($"u{u}");
            clicks.Parameters.AddWithValue(items);
            await clicks.ExecuteNonQueryAsync();
        }

        await TrainerBenchmark.SeedFreshnessWorldAsync(db, items, users, default);

        for (int u = 0; u < users; u++)
        {
            await using var read = db.CreateCommand(
                "select c.item_id, k.semantic_id[1] from user_clicks c join item_knowledge k on k.item_id = c.item_id where c.user_id = $1 order by c.seq");
            read.Parameters.AddWithValue(TrainerBenchmark.FreshnessUser(u));
            await using var reader = await read.ExecuteReaderAsync();
            int clicked = 0;
            while (await reader.ReadAsync())
            {
                // Every click is on a world item whose first semantic-id level is its parity, the user's own: a
                // positive label for this user is exactly a candidate of the same parity.
                int item = int.Parse(reader.GetString(0).AsSpan(TrainerBenchmark.FreshnessItem(0).Length - 1), System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(TrainerBenchmark.FreshnessItem(item), reader.GetString(0));
                Assert.Equal(1, TrainerBenchmark.FreshnessLabel(u, item));
                Assert.Equal(item % 2, reader.GetInt32(1));
                clicked++;
            }
            Assert.Equal(30, clicked);
        }
    }
}
