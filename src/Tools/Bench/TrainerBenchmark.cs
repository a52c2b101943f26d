using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Models.Ctr;
using ReaSeq.Models.Training;
using ReaSeq.Processors.Trainer;
using static TorchSharp.torch;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// `reaseq-tools bench trainer` (issue 10 §7): streaming training samples/s of the full CTR model (all pathways) at
/// sequence length 50 and 200, its estimated training FLOP/s beside a large matmul's FLOP/s measured in the same
/// run, and model freshness (impression produced → first registry version trained on it) of the trainer role on the
/// embedded broker and the benchmark's PostgreSQL at its default cadence.
/// </summary>
public sealed class TrainerBenchmark : IBenchmark
{
    private const int Dim = 384;
    private const int Catalog = 4_000;
    private const int Batch = 256;
    private const string UserPrefix = "trainer-bench-u";
    private const string ItemPrefix = "trainer-bench-i";
    private static readonly TimeSpan MinimumDuration = TimeSpan.FromSeconds(4);

    public string Name => "trainer";

    public async Task<JsonObject> RunAsync(CancellationToken ct)
    {
        // One thread: on a small shared machine libtorch worker threads spin against each other (see TorchDevice.SetCpuThreads).
        TorchDevice.SetCpuThreads(1);
        var random = new Random(20_251_203);
        var vectors = Enumerable.Range(0, Catalog).Select(_ => Enumerable.Range(0, Dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var sids = Enumerable.Range(0, Catalog).Select(i => new[] { i % 256, i / 256 % 256, random.Next(256) }).ToArray();

        var result = new JsonObject { ["torch_threads"] = get_num_threads(), ["batch_size"] = Batch, ["catalog_items"] = Catalog };
        double matmul = MatmulBaseline.Flops(2048, 2048, 2048, MinimumDuration, minimumCalls: 3);
        result["baseline_matmul_shape"] = "[2048, 2048] x [2048, 2048] float32";
        result["baseline_matmul_gflop_per_s"] = Math.Round(matmul / 1e9, 2);
        foreach (int length in new[] { 50, 200 })
        {
            ct.ThrowIfCancellationRequested();
            var (samplesPerSecond, flopPerSample, uniqueRows) = Throughput(length, vectors, sids, random);
            double flops = samplesPerSecond * flopPerSample;
            result[$"train_samples_per_s_at_{length}"] = Math.Round(samplesPerSecond, 0);
            result[$"train_gflop_per_s_estimated_at_{length}"] = Math.Round(flops / 1e9, 2);
            result[$"train_vs_matmul_at_{length}"] = Math.Round(flops / matmul, 3);
            result[$"unique_sequence_items_per_batch_at_{length}"] = uniqueRows;
            Console.Error.WriteLine($"bench trainer: length {length}: {samplesPerSecond:N0} samples/s, {flops / 1e9:F2} GFLOP/s ({flops / matmul:P1} of the matmul)");
        }
        result["goal_samples_per_s_at_50"] = 5_000;
        result["goal_vs_matmul"] = 0.3;
        result["flop_estimate"] = "analytic count of the model's matmuls per batch (item projections of the de-duplicated rows, DIN with its first layer split by input block, GSU cosines, ESU on unique retrieved rows, anchor compression with stage 1 once per user, head), training = 3 x forward";

        foreach (var (key, value) in await FreshnessAsync(ct)) result[key] = value?.DeepClone();
        result["machine_note"] = "2 CPU cores shared with other work; figures are lower than on an idle machine";
        return result;
    }

    private static (double SamplesPerSecond, double FlopPerSample, int UniqueRows) Throughput(int length, float[][] vectors, int[][] sids, Random random)
    {
        var options = new CtrModelOptions { MaxHistory = length, Device = "cpu" };
        Determinism.Seed(3);
        using var learner = new OnlineCtrLearner(CtrModel.Create(options), 10_000);
        // Users of 64 and more: each batch mixes 64 users with 4 candidates each, as impressions of one request come together.
        List<CtrExample> NextBatch()
        {
            var batch = new List<CtrExample>(Batch);
            for (int u = 0; u < Batch / 4; u++)
            {
                var items = Enumerable.Range(0, length).Select(_ => random.Next(Catalog)).ToArray();
                var user = new CtrUserFeatures($"u{random.Next(100_000)}", items.Select(i => vectors[i]).ToList(), items.Select(i => (int[]?)sids[i]).ToList(), null, length);
                for (int c = 0; c < 4; c++)
                {
                    int item = random.Next(Catalog);
                    batch.Add(new CtrExample(user, new CtrCandidate($"i{item}", vectors[item], sids[item], 1 + item % 200, 1 + item % 20, item % 97), random.Next(5) == 0 ? 1f : 0f));
                }
            }
            return batch;
        }
        var batches = Enumerable.Range(0, 8).Select(_ => NextBatch()).ToList();
        learner.Step(batches[0]); // warm-up
        int unique = batches[0].SelectMany(e => e.User.History).Distinct(ReferenceEqualityComparer.Instance).Count();
        long samples = 0;
        var clock = Stopwatch.StartNew();
        int step = 0;
        while (clock.Elapsed < MinimumDuration || step < 5)
        {
            learner.Step(batches[step++ % batches.Count]);
            samples += Batch;
        }
        double rate = samples / clock.Elapsed.TotalSeconds;
        int users = batches[0].Select(e => e.User).Distinct(ReferenceEqualityComparer.Instance).Count();
        return (rate, 3 * ForwardFlopPerBatch(options, length, unique, users) / Batch, unique);
    }

    /// <summary>Multiply-adds of the forward pass's matmuls, ×2 FLOP each.</summary>
    private static double ForwardFlopPerBatch(CtrModelOptions o, int length, int uniqueRows, int users)
    {
        double b = Batch, l = length, h = o.HiddenDim, d = o.ItemVectorDim, a = o.AttentionHiddenDim, m = o.InterestAnchors;
        double k = Math.Min(o.RetrievalTopK, length);
        double macs = (uniqueRows + b) * d * h; // knowledge projections
        // DIN's first layer split by input block (CtrModel.Din): the key term per distinct item, the query term per row,
        // the q ⊙ k term, the score and the weighted sum per position of DIN's window (the newest DinHistory positions;
        // with rows grouped per user, CtrModel.DinGrouped, the same count); the former [B, L, 4h] first layer counted 4·h·a per position.
        double window = Math.Min(o.DinHistory, length);
        macs += uniqueRows * h * a + b * h * a + b * window * (h * a + a + h);
        macs += b * l * d; // GSU cosines
        macs += Math.Min(uniqueRows, b * k) * 2 * h * h + b * 2 * h * h + b * k * 2 * h; // ESU: K/V on unique retrieved, Q, out, scores and sums
        // Compression: K/V per distinct item, the anchor scores per distinct item (gathered to the positions), and stage 1's
        // weighted sum once per distinct user (it does not depend on the target), then the per-row extraction.
        macs += uniqueRows * 2 * h * h + uniqueRows * m * h + m * h * h + users * m * l * h + b * h * h + b * m * 2 * h;
        int width = 8 * o.HiddenDim;
        foreach (int next in o.HeadHiddenDims)
        {
            macs += b * width * next;
            width = next;
        }
        macs += b * width;
        return 2 * macs;
    }


    /// <summary>
    /// The trainer role under its default options (mini-batch 256, a version every 20 s) on a paced impression stream:
    /// for every version, the age of the oldest impression it was the first to train on.
    /// </summary>
    private static async Task<JsonObject> FreshnessAsync(CancellationToken ct)
    {
        await using var db = await BenchDatabase.OpenAsync(ct);
        const int items = 500, users = 500;
        await SeedFreshnessWorldAsync(db, items, users, ct);
        using var broker = new EmbeddedKafkaBroker(3);
        var kafkaOptions = new KafkaOptions { Partitions = 6, MaxBatchSize = 5_000, MaxBatchWaitMs = 20 };
        using var kafka = new KafkaClientSupplier(kafkaOptions, broker);
        kafka.EnsureTopics(Topics.All, kafkaOptions.Partitions);
        var options = new TrainerOptions { CpuThreads = 0, Model = new CtrModelOptions { MaxHistory = 50, Device = "cpu" } };
        using var metrics = new TrainerMetrics();
        using var deadLetters = new DeadLetterPublisher(kafka, new AvroSerde<DeadLetter>(), NullLogger<DeadLetterPublisher>.Instance);
        using var processor = new CtrTrainerProcessor(new AvroSerde<LabeledImpression>(), new ContractValidator(new ContractLimits()), kafka, deadLetters,
            new PostgresFeatureSource(db, options), new CtrRegistry(db), metrics, options, kafkaOptions, NullLogger<CtrTrainerProcessor>.Instance);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var loop = Task.Factory.StartNew(() => new BatchConsumerLoop(kafka, kafkaOptions, NullLogger.Instance).RunAsync(processor, "bench", cts.Token),
            cts.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

        var freshness = new List<double>();
        string? seen = null;
        const int rate = 200;
        var duration = TimeSpan.FromSeconds(50);
        var random = new Random(5);
        long now0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using (var producer = new ContractProducer(kafka, "bench-impressions"))
        {
            var clock = Stopwatch.StartNew();
            long sent = 0;
            while (clock.Elapsed < duration + TimeSpan.FromSeconds(30) && (clock.Elapsed < duration || freshness.Count < 2))
            {
                while (clock.Elapsed < duration && sent < clock.Elapsed.TotalSeconds * rate)
                {
                    int user = random.Next(users), item = random.Next(items);
                    producer.Produce(Topics.Impressions, FreshnessUser(user), new LabeledImpression
                    {
                        ImpressionId = $"b{sent}",
                        UserId = FreshnessUser(user),
                        ItemId = FreshnessItem(item),
                        TsMs = now0 + sent,
                        Label = FreshnessLabel(user, item),
                    });
                    sent++;
                }
                await Task.Delay(20, ct);
                if (metrics.LatestVersion is { } v && v != seen)
                {
                    seen = v;
                    if (metrics.LastFreshnessSeconds is { } f) freshness.Add(f);
                }
            }
            producer.Flush(ct);
        }
        await cts.CancelAsync();
        try
        {
            await loop.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        }
        catch (OperationCanceledException)
        {
        }
        var evaluation = processor.Evaluate();
        return new JsonObject
        {
            ["freshness_setup"] = $"trainer role, {rate} impressions/s for {duration.TotalSeconds:F0} s, mini-batch {options.BatchSize}, version every {options.VersionIntervalMs / 1000} s, length 50, embedded broker, this PostgreSQL",
            ["freshness_versions"] = freshness.Count,
            ["freshness_max_s"] = freshness.Count == 0 ? null : Math.Round(freshness.Max(), 1),
            ["freshness_mean_s"] = freshness.Count == 0 ? null : Math.Round(freshness.Average(), 1),
            ["freshness_goal_s"] = 60,
            ["freshness_prequential_auc"] = evaluation is null || double.IsNaN(evaluation.Overall.Auc) ? null : Math.Round(evaluation.Overall.Auc, 4),
        };
    }

    /// <summary>
    /// The freshness world's user id. Its own namespace: `make bench` runs every benchmark against one database, and
    /// the api, ingest and sequence benchmarks write users u0… and items i0… of their own (random vectors, random
    /// histories); with the same ids the seed below was skipped row by row (on conflict do nothing), the trainer saw
    /// their features beside this world's labels, and its prequential AUC stayed at chance (0.51 in the runs after
    /// the api benchmark, 0.99 when run alone).
    /// </summary>
    public static string FreshnessUser(int user) => UserPrefix + user;

    /// <summary>The freshness world's item id (see <see cref="FreshnessUser"/>).</summary>
    public static string FreshnessItem(int item) => ItemPrefix + item;

    /// <summary>The world's click label: whether item and user have the same parity, which both the knowledge vector
    /// (half the dimensions raised) and the semantic id's first level of every item carry.</summary>
    public static int FreshnessLabel(int user, int item) => item % 2 == user % 2 ? 1 : 0;

    /// <summary>
    /// Items with knowledge vectors and semantic ids carrying their parity, and users with 30 clicks on items of their
    /// own parity, all in this benchmark's id namespace.
    /// </summary>
    public static async Task SeedFreshnessWorldAsync(NpgsqlDataSource db, int items, int users, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var random = new Random(9);
        long t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000;
        for (int i = 0; i < items; i++)
        {
            await using var item = db.CreateCommand(
                "insert into items (item_id, title, description, category_path, attributes, price, ts_ms) values ($1, $1, '', $2, '{}'::jsonb, $3, $4) on conflict do nothing");
            item.Parameters.AddWithValue(FreshnessItem(i));
            item.Parameters.AddWithValue(new[] { $"c{i % 20}" });
            item.Parameters.AddWithValue(1.0 + i % 50);
            item.Parameters.AddWithValue(t0);
            await item.ExecuteNonQueryAsync(ct);
            await using var knowledge = db.CreateCommand(
                "insert into item_knowledge (item_id, content_hash, category, category_assigned, demand, attribute, vector, semantic_id, " +
                "semantic_id_version, taxonomy_version, prompt_version, backend, encoder, ts_ms) " +
                "values ($1, 'h', 'c', false, '[]'::jsonb, '[]'::jsonb, $2, $3, 'bench', 't', 'p', 'b', 'e', $4) on conflict do nothing");
            knowledge.Parameters.AddWithValue(FreshnessItem(i));
            knowledge.Parameters.AddWithValue(Enumerable.Range(0, Dim).Select(d => (d % 2 == i % 2 ? 0.5f : 0f) + (float)(random.NextDouble() - 0.5)).ToArray());
            knowledge.Parameters.AddWithValue(new[] { i % 2, i % 256, 0 });
            knowledge.Parameters.AddWithValue(t0);
            await knowledge.ExecuteNonQueryAsync(ct);
        }
        for (int u = 0; u < users; u++)
        {
            await using var clicks = db.CreateCommand(
                "insert into user_clicks (user_id, seq, event_id, item_id, ts_ms, action, kafka_partition) " +
                "select $1, s, $1 || '-' || s, $5 || (((s * 7 + $2) % $3) / 2 * 2 + $2 % 2), $4 + s * 1000, 0, 0 from generate_series(0, 29) s on conflict do nothing");
            clicks.Parameters.AddWithValue(FreshnessUser(u));
            clicks.Parameters.AddWithValue(u);
            clicks.Parameters.AddWithValue(items);
            clicks.Parameters.AddWithValue(t0);
            clicks.Parameters.AddWithValue(ItemPrefix);
            await clicks.ExecuteNonQueryAsync(ct);
        }
    }
}
