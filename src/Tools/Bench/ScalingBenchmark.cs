using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// Scaling out (the operators' main task): 1, 2 and 3 `reaseq run` processes of one role as one consumer group on the
/// embedded broker, for ingest and for sequence. Per run: throughput per process and in total (records made durable /
/// wall time from the first record published to the last one consumed), CPU seconds of the role processes (events per
/// core-second, the capacity model's unit), PostgreSQL transactions and row writes per event (pg_stat_database), and a
/// digest of the outputs that must equal the single-process run's (ingest: the click sequences in PostgreSQL;
/// sequence: the last SequenceUpdate per user).
/// </summary>
public sealed class ScalingBenchmark : IBenchmark
{
    public const int Users = 2_000;
    public const int ClicksPerUser = 20;

    public string Name => "scaling";

    public async Task<JsonObject> RunAsync(CancellationToken ct)
    {
        var admin = Environment.GetEnvironmentVariable("REASEQ__Postgres__ConnectionString")
            ?? throw new InvalidOperationException("Set REASEQ__Postgres__ConnectionString (make bench does)");
        var result = new JsonObject
        {
            ["workload"] = $"{Users * ClicksPerUser:N0} clicks of {Users:N0} users, 6 partitions, one embedded broker; each run starts its processes, waits until the group is balanced, then publishes",
            ["cores"] = Environment.ProcessorCount,
        };
        foreach (var role in new[] { "ingest", "sequence" })
        {
            var runs = new JsonArray();
            string? single = null;
            foreach (var n in new[] { 1, 2, 3 })
            {
                var run = await RunOnceAsync(admin, role, n, ct);
                single ??= run["output_digest"]!.GetValue<string>();
                run["outputs_identical_to_single_process"] = run["output_digest"]!.GetValue<string>() == single;
                Console.Error.WriteLine($"bench scaling: {role} × {n}: {run.ToJsonString()}");
                runs.Add(run);
            }
            result[role] = runs;
        }
        return result;
    }

    public static async Task<JsonObject> RunOnceAsync(string adminConnectionString, string role, int processes, CancellationToken ct, int events = Users * ClicksPerUser)
    {
        var connectionString = await FreshDatabaseAsync(adminConnectionString, $"scale_{role}_{processes}", ct);
        await using var cluster = new ScaleOutCluster(ScaleOutCluster.FindExecutable(), role, connectionString);
        var handler = role == "ingest" ? "ingest-clicks" : "sequence";
        var group = $"reaseq.{handler}";
        for (var i = 0; i < processes; i++) await cluster.StartMemberAsync(ct);
        await cluster.WaitForBalanceAsync(handler, ct);
        await using var db = NpgsqlDataSource.Create(connectionString);
        var (xact0, rows0) = await PgStatsAsync(db, ct);
        var cpu0 = cluster.Members.Select(m => m.CpuTime).ToList();

        var workload = Workload(events);
        var clock = Stopwatch.StartNew();
        Publish(cluster.Kafka, workload);
        var published = clock.Elapsed.TotalSeconds;
        List<double> counts;
        while ((counts = await cluster.RecordsInAsync(group, ct)).Sum() < events)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(5)) throw new TimeoutException($"{role} × {processes}: {counts.Sum()} of {events} consumed after 5 min");
            await Task.Delay(50, ct);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = cluster.Members.Select((m, i) => (m.CpuTime - cpu0[i]).TotalSeconds).Sum();
        // PostgreSQL publishes its statistics about once a second: read until they stop moving.
        var (xact1, rows1) = await PgStatsAsync(db, ct);
        // (Each read is a transaction itself: only the row writes must stop moving, and the reads are taken off.)
        var reads = 1;
        for (var stable = 0; stable < 2 && reads < 15; reads++)
        {
            await Task.Delay(700, ct);
            var now = await PgStatsAsync(db, ct);
            stable = now.RowWrites == rows1 ? stable + 1 : 0;
            (xact1, rows1) = now;
        }
        xact1 -= reads;
        var digest = role == "ingest" ? await IngestDigestAsync(db, ct) : SequenceDigest(cluster);
        return new JsonObject
        {
            ["processes"] = processes,
            ["events"] = events,
            ["publish_seconds"] = Math.Round(published, 2),
            ["seconds"] = Math.Round(seconds, 2),
            ["events_per_second_total"] = Math.Round(events / seconds),
            ["events_per_second_per_process"] = new JsonArray(counts.Select(c => (JsonNode)Math.Round(c / seconds)).ToArray()),
            ["records_per_process"] = new JsonArray(counts.Select(c => (JsonNode)(long)c).ToArray()),
            ["cpu_seconds"] = Math.Round(cpu, 2),
            ["events_per_cpu_second"] = Math.Round(events / Math.Max(cpu, 1e-3)),
            ["pg_transactions_per_event"] = Math.Round((xact1 - xact0) / (double)events, 4),
            ["pg_row_writes_per_event"] = Math.Round((rows1 - rows0) / (double)events, 3),
            ["output_digest"] = digest,
        };
    }

    /// <summary>The workload: users' clicks (with their category in the context, so no catalog wait), keyed by user, serialized.</summary>
    public static List<(byte[] Key, byte[] Value)> Workload(int events, int offset = 0)
    {
        var serde = new AvroSerde<ClickEvent>();
        var records = new List<(byte[], byte[])>(events);
        for (var i = offset; i < offset + events; i++)
        {
            var user = i % Users;
            var step = i / Users;
            records.Add((Encoding.UTF8.GetBytes($"u{user}"), serde.Serialize(new ClickEvent
            {
                EventId = $"e{i}",
                UserId = $"u{user}",
                ItemId = $"i{(user * 7 + step * 13) % 500}",
                TsMs = 1_700_000_000_000 + (step * 90_000L) + user,
                Action = ClickAction.CLICK,
                Context = new() { ["category"] = $"c{(user + step) % 12}" },
            })));
        }
        return records;
    }

    /// <summary>Publishes serialized records (serialization stays out of the measured time) and waits for their delivery.</summary>
    public static void Publish(IKafkaClientSupplier kafka, IEnumerable<(byte[] Key, byte[] Value)> records)
    {
        using var producer = new ContractProducer(kafka, "scale-out-producer");
        var deliveries = new DeliveryTracker();
        foreach (var (key, value) in records) producer.ProduceRaw(Topics.Clicks, key, value, deliveries);
        deliveries.WaitAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    public static async Task<string> FreshDatabaseAsync(string adminConnectionString, string name, CancellationToken ct)
    {
        await using (var conn = new NpgsqlConnection(adminConnectionString))
        {
            await conn.OpenAsync(ct);
            await using var drop = new NpgsqlCommand($"drop database if exists {name} with (force)", conn);
            await drop.ExecuteNonQueryAsync(ct);
            await using var create = new NpgsqlCommand($"create database {name}", conn);
            await create.ExecuteNonQueryAsync(ct);
        }
        return new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
    }

    private static async Task<(long Transactions, long RowWrites)> PgStatsAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select xact_commit, tup_inserted + tup_updated + tup_deleted from pg_stat_database where datname = current_database()");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Every stored click sequence, in order: equal digests mean equal ingest state.</summary>
    public static async Task<string> IngestDigestAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select count(*) || ':' || md5(string_agg(user_id || '/' || seq || '/' || event_id || '/' || item_id || '/' || ts_ms, ',' order by user_id, seq)) from user_clicks");
        return (string)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The last SequenceUpdate of every user (what a consumer of the topic ends with): equal digests mean equal features.</summary>
    public static string SequenceDigest(ScaleOutCluster cluster)
    {
        using var consumer = cluster.Kafka.CreateConsumer("digest-" + Guid.NewGuid().ToString("N"), "digest");
        var last = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var p = 0; p < 6; p++)
        {
            var tp = new Confluent.Kafka.TopicPartition(Topics.SequenceGaps, p);
            var high = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
            if (high <= 0) continue;
            consumer.Assign(new Confluent.Kafka.TopicPartitionOffset(tp, Confluent.Kafka.Offset.Beginning));
            while (consumer.Consume(TimeSpan.FromSeconds(10)) is { } r)
            {
                if (r.IsPartitionEOF) continue;
                last[Encoding.UTF8.GetString(r.Message.Key ?? [])] = Convert.ToHexString(SHA256.HashData(r.Message.Value ?? []));
                if (r.Offset.Value + 1 >= high) break;
            }
        }
        var text = string.Join(",", last.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
        return $"{last.Count}:{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32]}";
    }
}
