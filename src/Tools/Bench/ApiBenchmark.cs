using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using ReaSeq.Api;
using ReaSeq.Api.Endpoints;
using ReaSeq.Api.Scoring;
using ReaSeq.Contracts;
using ReaSeq.Host;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Models.Ctr;
using ReaSeq.Models.Training;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// The api role (issue 11 §3) as `reaseq run --roles api` composes it, on PostgreSQL and the embedded broker, driven
/// over HTTP from an in-process bounded client on 127.0.0.1: POST /v1/score with 200 candidates for users with a
/// 1,000-click history, scored by the trainer's CTR model at its default shape (384-d knowledge vectors, all four
/// pathways). Closed loop (1 and 4 clients), open loop at 100 requests/s (latency from the scheduled send time, so a
/// stall counts against every request it delays), the same open loop while a new model version is announced and
/// swapped in, and the baseline: the same requests scored in-process (features from the same cache, no HTTP).
/// Needs REASEQ__Postgres__ConnectionString.
/// </summary>
public sealed class ApiBenchmark : IBenchmark
{
    private const int Items = 5_000;
    private const int Users = 20;
    private const int History = 1_000;
    private const int Candidates = 200;
    private const int RequestSets = 64;
    private const int OpenLoopRate = 100;
    private const int OpenLoopSeconds = 15;
    private const int MaxInFlight = 64;

    public string Name => "api";

    public async Task<JsonObject> RunAsync(CancellationToken ct)
    {
        var loadAtStart = LoadAverage();
        await using var db = await BenchDatabase.OpenAsync(ct);
        using var broker = new EmbeddedKafkaBroker(1);
        foreach (var topic in Topics.All) broker.CreateTopic(topic, 1);
        var random = new Random(11);
        var modelOptions = new CtrModelOptions(); // the trainer's default shape
        await SeedAsync(db, modelOptions.ItemVectorDim, random, ct);
        var checkpoints = new[] { Checkpoint(modelOptions, 1), Checkpoint(modelOptions, 2) };
        await RegisterAsync(db, "bench-v1", 1, checkpoints[0], ct);

        var connectionString = Environment.GetEnvironmentVariable("REASEQ__Postgres__ConnectionString")!;
        using var host = Cli.BuildHost(["api"], c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Postgres:ConnectionString"] = connectionString,
            ["Kafka:BootstrapServers"] = broker.BootstrapServers,
            ["Kafka:Partitions"] = "1",
            ["Api:Url"] = "http://127.0.0.1:0",
            ["Api:RateLimitPerSecond"] = "1000000",
            ["Api:ModelPollMs"] = "3600000",
            ["Logging:LogLevel:Default"] = "Warning",
        }));
        await host.StartAsync(ct);
        try
        {
            var services = host.Services;
            var holder = services.GetRequiredService<CtrModelHolder>();
            await services.GetRequiredService<ModelWatcher>().WhenListening.WaitAsync(TimeSpan.FromSeconds(60), ct);
            await services.GetRequiredService<ModelWatcher>().ServeActiveAsync(null, ct);
            if (holder.Current is null) throw new InvalidOperationException("the benchmark model did not load");
            var address = services.GetRequiredService<ApiServer>().Address!;

            var requests = Enumerable.Range(0, RequestSets).Select(i => (User: $"u{i % Users}",
                Candidates: Enumerable.Range(0, Candidates).Select(_ => $"i{random.Next(Items)}").ToArray())).ToArray();
            var bodies = requests.Select(r => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { user_id = r.User, candidates = r.Candidates }))).ToArray();

            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = MaxInFlight, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
            using var http = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };

            // Warm-up: JIT, connection pool, feature cache (steady state: every user and item cached).
            await ClosedLoopAsync(http, bodies, 1, 30, ct);

            var scoring = services.GetRequiredService<ScoringService>();
            var workers = services.GetRequiredService<ScoringWorkers>();
            // libtorch threads per forward pass (Api:TorchThreads, default 1; libtorch's own default is one per core): both
            // measured, the HTTP runs use the default. Set per scoring thread and on the thread running the step breakdown.
            var threads = new JsonObject();
            foreach (var n in new[] { 2, 1 })
            {
                workers.TorchThreads = n;
                threads[$"threads_{n}"] = new JsonObject
                {
                    ["baseline_in_process"] = await InProcessAsync(scoring, holder, requests, 200, ct),
                    ["steps"] = await BreakdownAsync(scoring, workers, holder, requests, 50, ct),
                };
            }
            var baseline = threads["threads_1"]!["baseline_in_process"]!.DeepClone();
            var closed1 = await ClosedLoopAsync(http, bodies, 1, 500, ct);
            var closed4 = await ClosedLoopAsync(http, bodies, 4, 500, ct);
            workers.TorchThreads = 2;
            var openTwoThreads = await OpenLoopAsync(http, bodies, OpenLoopRate, OpenLoopSeconds, null, ct);
            workers.TorchThreads = 1;
            var open = await OpenLoopAsync(http, bodies, OpenLoopRate, OpenLoopSeconds, null, ct);
            var swapAt = TimeSpan.FromSeconds(OpenLoopSeconds / 3.0);
            var kafka = services.GetRequiredService<IKafkaClientSupplier>();
            var during = await OpenLoopAsync(http, bodies, OpenLoopRate, OpenLoopSeconds, async () =>
            {
                // The trainer's order: announce on reaseq.ctr-models, then commit the registry row.
                using var producer = new ContractProducer(kafka, "bench-trainer");
                producer.Produce(Topics.CtrModels, "ctr", new ModelVersion { ModelName = "ctr", Version = 2, CheckpointRef = "bench-v2", TsMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
                producer.Flush(ct);
                await RegisterAsync(db, "bench-v2", 2, checkpoints[1], ct);
            }, ct, swapAt);
            var swapped = holder.Current?.Version;

            const double goalP99Ms = 10;
            return new JsonObject
            {
                // The process's gen0 budget (make bench sets the api role's, as the Helm chart does for api pods).
                ["gc_gen0size"] = Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "runtime default",
                ["setup"] = $"{Candidates} candidates per request, users with a {History}-click history (user_clicks), {Items} items with " +
                            $"{modelOptions.ItemVectorDim}-d knowledge vectors; CTR model {modelOptions.PathwayName}, MaxHistory {modelOptions.MaxHistory}, " +
                            $"hidden {modelOptions.HiddenDim}, top-K {modelOptions.RetrievalTopK}, {modelOptions.InterestAnchors} anchors (untrained weights: cost does not depend on them). " +
                            $"Client: in-process HttpClient on 127.0.0.1, at most {MaxInFlight} requests in flight. Features served from the warm feature cache; " +
                            $"{Users} users, so the per-user model state cache is warm (a user's first request or one after a feature change or model swap pays the user step: see steps.user_step_ms). " +
                            "HTTP runs with 1 libtorch thread unless named otherwise.",
                ["load_average_1_5_15_min"] = new JsonObject { ["start"] = loadAtStart, ["end"] = LoadAverage() },
                ["torch_threads"] = threads,
                ["baseline_in_process"] = baseline,
                ["closed_loop_1_client"] = closed1,
                ["closed_loop_4_clients"] = closed4,
                ["open_loop_100_rps"] = open,
                ["open_loop_100_rps_2_threads"] = openTwoThreads,
                ["open_loop_100_rps_during_swap"] = during,
                ["swap"] = new JsonObject { ["announced_at_s"] = swapAt.TotalSeconds, ["serving_after"] = swapped },
                ["goal"] = new JsonObject
                {
                    ["p99_ms_at_100_rps"] = goalP99Ms,
                    ["met"] = open["p99_ms"]!.GetValue<double>() <= goalP99Ms,
                    ["met_during_swap"] = during["p99_ms"]!.GetValue<double>() <= goalP99Ms && during["failed"]!.GetValue<int>() == 0,
                },
            };
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try { await host.StopAsync(stop.Token); } catch (OperationCanceledException) { }
        }
    }

    /// <summary>The machine's load (other work shares the cores), from /proc/loadavg.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static async Task<JsonObject> InProcessAsync(ScoringService scoring, CtrModelHolder holder,
        (string User, string[] Candidates)[] requests, int count, CancellationToken ct)
    {
        var latencies = new double[count];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            using (var lease = holder.Acquire()!.Value)
            {
                var (user, candidates) = requests[i % requests.Length];
                var prepared = await scoring.PrepareAsync(user, candidates, lease.Model.Options, ct);
                await scoring.ScoreAsync(lease.Model, prepared);
            }
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return Summary(latencies, count / clock.Elapsed.TotalSeconds, 0, null);
    }

    /// <summary>
    /// Where a request's time goes, in process: features from the warm cache (PrepareAsync), the user step (the model's
    /// user-only work, paid on a state cache miss), the candidate step (every request; on the calling thread in one batch, and split across the scoring threads as requests run it), the whole full-forward pass the
    /// API used before the split (each candidate row re-processing the history), and writing the JSON response. Medians.
    /// </summary>
    private static async Task<JsonObject> BreakdownAsync(ScoringService scoring, ScoringWorkers workers, CtrModelHolder holder,
        (string User, string[] Candidates)[] requests, int count, CancellationToken ct)
    {
        var features = new double[count];
        var userStep = new double[count];
        var candidateStep = new double[count];
        var candidateStepSplit = new double[count];
        var userStepCpu = new double[count];
        var candidateStepCpu = new double[count];
        var fullForward = new double[Math.Min(count, 5)];
        var json = new double[count];
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        for (var i = 0; i < count; i++)
        {
            using var lease = holder.Acquire()!.Value;
            var (user, candidates) = requests[i % requests.Length];
            var start = Stopwatch.GetTimestamp();
            var prepared = await scoring.PrepareAsync(user, candidates, lease.Model, ct);
            features[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            TorchDevice.UseCpuThreadsOnThisThread(workers.TorchThreads); // an await may have moved this loop to another thread
            start = Stopwatch.GetTimestamp();
            var cpu = ThreadCpuMs();
            using (var state = lease.Model.Scorer.EncodeUser(prepared.Features))
            {
                userStep[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                userStepCpu[i] = ThreadCpuMs() - cpu;
                start = Stopwatch.GetTimestamp();
                cpu = ThreadCpuMs();
                lease.Model.Scorer.Score(state, prepared.Candidates);
                candidateStep[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                candidateStepCpu[i] = ThreadCpuMs() - cpu;
                start = Stopwatch.GetTimestamp();
                var scorer = lease.Model.Scorer;
                var all = prepared.Candidates;
                await workers.ScoreInPartsAsync(all.Count, (first, length) => scorer.Score(state, all.Skip(first).Take(length).ToList()));
                candidateStepSplit[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            var response = await scoring.ScoreAsync(lease.Model, prepared);
            start = Stopwatch.GetTimestamp();
            JsonSerializer.SerializeToUtf8Bytes(response, options);
            json[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        // Last: seconds per call, long enough for cached user features to reach Api:Cache:MaxAgeMs.
        for (var i = 0; i < fullForward.Length; i++)
        {
            using var lease = holder.Acquire()!.Value;
            var (user, candidates) = requests[i % requests.Length];
            var prepared = await scoring.PrepareAsync(user, candidates, lease.Model, ct);
            TorchDevice.UseCpuThreadsOnThisThread(workers.TorchThreads);
            var start = Stopwatch.GetTimestamp();
            lease.Model.Scorer.Score(prepared.Features, prepared.Candidates);
            fullForward[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        static double Median(double[] values) => Math.Round(values.Order().ElementAt(values.Length / 2), 3);
        return new JsonObject
        {
            ["features_from_cache_ms"] = Median(features),
            ["user_step_ms"] = Median(userStep),
            ["candidate_step_ms"] = Median(candidateStep),
            // CPU time of the calling thread (libtorch runs the step on it with 1 thread): what the step costs whatever
            // else shares the cores, where the wall times above include waiting for a core.
            ["user_step_cpu_ms"] = Median(userStepCpu),
            ["candidate_step_cpu_ms"] = Median(candidateStepCpu),
            [$"candidate_step_split_{workers.Threads}_threads_ms"] = Median(candidateStepSplit),
            ["full_forward_before_split_ms"] = Median(fullForward),
            ["json_response_ms"] = Median(json),
        };
    }

    /// <summary>
    /// CPU time this thread has run, in ms (Linux: clock_gettime(CLOCK_THREAD_CPUTIME_ID); NaN elsewhere). Not
    /// /proc/thread-self/schedstat: on some kernels it advances only at the scheduler tick (4 ms here), which made an
    /// earlier run report every step at "4.0 ms CPU".
    /// </summary>
    private static double ThreadCpuMs()
    {
        if (!OperatingSystem.IsLinux()) return double.NaN;
        const int ClockThreadCpuTimeId = 3;
        return ClockGetTime(ClockThreadCpuTimeId, out var time) == 0 ? time.Seconds * 1e3 + time.Nanoseconds / 1e6 : double.NaN;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private readonly struct TimeSpec
    {
        public readonly long Seconds;
        public readonly long Nanoseconds;
    }

    private static async Task<JsonObject> ClosedLoopAsync(HttpClient http, byte[][] bodies, int clients, int count, CancellationToken ct)
    {
        var latencies = new double[count];
        var next = -1;
        var failed = 0;
        var gc = GcCounters.Now();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var start = Stopwatch.GetTimestamp();
                if (!await SendAsync(http, bodies[i % bodies.Length], ct)) Interlocked.Increment(ref failed);
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }, ct)));
        var summary = Summary(latencies, count / clock.Elapsed.TotalSeconds, failed, null);
        summary["clients"] = clients;
        summary["gc"] = gc.Since();
        return summary;
    }

    /// <summary>Requests sent on a fixed schedule; each latency counts from its scheduled time (no coordinated omission).</summary>
    private static async Task<JsonObject> OpenLoopAsync(HttpClient http, byte[][] bodies, int rate, int seconds, Func<Task>? action,
        CancellationToken ct, TimeSpan actionAt = default)
    {
        var count = rate * seconds;
        var latencies = new double[count];
        // Where the time went: scheduled → the send starting (the client's own pacing), and the server
        // handler's time from its Server-Timing header (including the wait for a scoring thread); the rest is HTTP.
        var sendDelays = new double[count];
        var serverTimes = new double[count];
        var versions = new Dictionary<string, int>(StringComparer.Ordinal);
        var failed = 0;
        var skipped = 0;
        using var inFlight = new SemaphoreSlim(MaxInFlight);
        var tasks = new List<Task>(count);
        var gc = GcCounters.Now();
        var clock = Stopwatch.StartNew();
        Task? actionTask = null;
        // The schedule is kept by a thread of its own that sleeps to within a millisecond of each send, yields the
        // processor until it is due (with a spin there, the swap phase's p999 was 80-104 ms in three runs, 19-46 ms without),
        // and starts the request itself. Before, an awaited Task.Delay (timer granularity) and a hop to the thread pool
        // made sends leave 1.4 ms late at the median and 6 ms at p99, which every latency carried.
        await Task.Factory.StartNew(() =>
        {
            for (var i = 0; i < count; i++)
            {
                var scheduled = TimeSpan.FromSeconds((double)i / rate);
                if (action is not null && actionTask is null && scheduled >= actionAt) actionTask = Task.Run(action, ct);
                var wait = scheduled - clock.Elapsed - TimeSpan.FromMilliseconds(1);
                if (wait > TimeSpan.Zero) Thread.Sleep(wait);
                while (clock.Elapsed < scheduled) Thread.Sleep(0);
                if (!inFlight.Wait(0))
                {
                    // The bounded client is saturated: the request is not sent, and counted.
                    Interlocked.Increment(ref skipped);
                    latencies[i] = sendDelays[i] = serverTimes[i] = double.NaN;
                    continue;
                }
                sendDelays[i] = (clock.Elapsed - scheduled).TotalMilliseconds;
                serverTimes[i] = double.NaN;
                tasks.Add(SendScheduledAsync(i, scheduled));
            }
        }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        async Task SendScheduledAsync(int index, TimeSpan scheduled)
        {
            try
            {
                var (ok, version, serverMs) = await SendWithVersionAsync(http, bodies[index % bodies.Length], ct);
                serverTimes[index] = serverMs;
                if (!ok)
                {
                    Interlocked.Increment(ref failed);
                }
                else
                {
                    lock (versions) versions[version!] = versions.GetValueOrDefault(version!) + 1;
                }
            }
            finally
            {
                latencies[index] = (clock.Elapsed - scheduled).TotalMilliseconds;
                inFlight.Release();
            }
        }
        await Task.WhenAll(tasks);
        if (actionTask is not null) await actionTask;
        var measured = latencies.Where(l => !double.IsNaN(l)).ToArray();
        var summary = Summary(measured, measured.Length / clock.Elapsed.TotalSeconds, failed, versions);
        summary["target_rps"] = rate;
        summary["not_sent_client_saturated"] = skipped;
        summary["send_delay"] = Percentiles(sendDelays);
        summary["server_timing"] = Percentiles(serverTimes);
        summary["gc"] = gc.Since();
        return summary;
    }

    private static async Task<bool> SendAsync(HttpClient http, byte[] body, CancellationToken ct) => (await SendWithVersionAsync(http, body, ct)).Ok;

    /// <summary>The response's model version and the server's own milliseconds (Server-Timing; NaN when absent).</summary>
    private static async Task<(bool Ok, string? Version, double ServerMs)> SendWithVersionAsync(HttpClient http, byte[] body, CancellationToken ct)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await http.PostAsync("/v1/score", content, ct);
            var bytes = await response.Content.ReadAsByteArrayAsync(ct);
            if (response.StatusCode != HttpStatusCode.OK) return (false, null, double.NaN);
            using var doc = JsonDocument.Parse(bytes);
            return (true, doc.RootElement.GetProperty("model_version").GetString(), ServerMs(response));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return (false, null, double.NaN); // a client timeout (30 s) counts as a failed request
        }
    }

    /// <summary>dur of the score metric in a "score;dur=4.21" Server-Timing header.</summary>
    private static double ServerMs(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Server-Timing", out var values)) return double.NaN;
        var prefix = $"{ScoreEndpoints.ServerTimingMetric};dur=";
        foreach (var value in values)
        {
            if (value.StartsWith(prefix, StringComparison.Ordinal)
                && double.TryParse(value.AsSpan(prefix.Length), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ms))
            {
                return ms;
            }
        }
        return double.NaN;
    }

    /// <summary>p50 / p99 / max of the finite values.</summary>
    private static JsonObject Percentiles(double[] values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        return new JsonObject
        {
            ["p50_ms"] = Math.Round(Quantile(sorted, 0.5), 3),
            ["p99_ms"] = Math.Round(Quantile(sorted, 0.99), 3),
            ["max_ms"] = Math.Round(sorted.LastOrDefault(), 3),
        };
    }

    /// <summary>The nearest-rank <paramref name="q"/> quantile of ascending values (NaN when there are none).</summary>
    private static double Quantile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static JsonObject Summary(double[] latencies, double throughput, int failed, Dictionary<string, int>? versions)
    {
        var sorted = latencies.Order().ToArray();
        double P(double q) => Quantile(sorted, q);
        var summary = new JsonObject
        {
            ["requests"] = sorted.Length,
            ["failed"] = failed,
            ["p50_ms"] = Math.Round(P(0.50), 3),
            ["p99_ms"] = Math.Round(P(0.99), 3),
            ["p999_ms"] = Math.Round(P(0.999), 3),
            ["max_ms"] = Math.Round(sorted.LastOrDefault(), 3),
            ["throughput_rps"] = Math.Round(throughput, 1),
        };
        if (versions is not null) summary["responses_per_version"] = new JsonObject(versions.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        return summary;
    }

    private static byte[] Checkpoint(CtrModelOptions options, int seed)
    {
        Determinism.Seed(seed);
        using var model = CtrModel.Create(options);
        return CtrModelCheckpoint.Save(model);
    }

    private static async Task RegisterAsync(NpgsqlDataSource db, string version, long seq, byte[] checkpoint, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var supersede = new NpgsqlCommand("update ctr_models set status = 'superseded' where status = 'active'", conn, tx))
            await supersede.ExecuteNonQueryAsync(ct);
        await using (var insert = new NpgsqlCommand(
            "insert into ctr_models (version, seq, checkpoint, config, metrics, lineage, status) values ($1, $2, $3, '{}'::jsonb, '{}'::jsonb, '{}'::jsonb, 'active')", conn, tx))
        {
            insert.Parameters.AddWithValue(version);
            insert.Parameters.AddWithValue(seq);
            insert.Parameters.AddWithValue(checkpoint);
            await insert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>Catalog, knowledge vectors and semantic ids, and each user's 1,000 clicks, as the other roles would have written them.</summary>
    private static async Task SeedAsync(NpgsqlDataSource db, int dimension, Random random, CancellationToken ct)
    {
        await using (var clear = db.CreateCommand("truncate items, item_knowledge, user_clicks, ctr_models, api_user_features"))
            await clear.ExecuteNonQueryAsync(ct);
        var ids = Enumerable.Range(0, Items).Select(i => $"i{i}").ToArray();
        var vectors = new float[Items * dimension];
        for (var i = 0; i < vectors.Length; i++) vectors[i] = (float)(random.NextDouble() * 2 - 1);
        await using (var items = db.CreateCommand(
            "insert into items (item_id, title, description, category_path, attributes, price, ts_ms) " +
            "select id, id, '', array['c' || (n % 40)], '{}'::jsonb, 1 + (n % 300), 1 from unnest($1::text[]) with ordinality u(id, n)"))
        {
            items.Parameters.AddWithValue(ids);
            await items.ExecuteNonQueryAsync(ct);
        }
        for (var start = 0; start < Items; start += 1_000)
        {
            var chunk = Enumerable.Range(start, Math.Min(1_000, Items - start)).ToArray();
            await using var knowledge = db.CreateCommand(
                "insert into item_knowledge (item_id, content_hash, category, category_assigned, demand, attribute, vector, semantic_id, semantic_id_version, " +
                "taxonomy_version, prompt_version, backend, encoder, ts_ms) " +
                "select id, 'h', 'c', false, '[]'::jsonb, '[]'::jsonb, ($5::real[])[(ord - 1) * $6 + 1 : ord * $6], array[s1, s2, s3], 'sid', 'tax', 'p', 'bench', 'bench', 1 " +
                "from unnest($1::text[], $2::int[], $3::int[], $4::int[]) with ordinality x(id, s1, s2, s3, ord)");
            knowledge.Parameters.AddWithValue(chunk.Select(i => ids[i]).ToArray());
            knowledge.Parameters.AddWithValue(chunk.Select(_ => random.Next(256)).ToArray());
            knowledge.Parameters.AddWithValue(chunk.Select(_ => random.Next(256)).ToArray());
            knowledge.Parameters.AddWithValue(chunk.Select(_ => random.Next(256)).ToArray());
            knowledge.Parameters.Add(new NpgsqlParameter { Value = vectors.AsSpan(start * dimension, chunk.Length * dimension).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Real });
            knowledge.Parameters.AddWithValue(dimension);
            await knowledge.ExecuteNonQueryAsync(ct);
        }
        for (var u = 0; u < Users; u++)
        {
            await using var clicks = db.CreateCommand(
                "insert into user_clicks (user_id, seq, event_id, item_id, ts_ms, action, kafka_partition) " +
                "select $1, s, $1 || '-' || s, i, 1000 + s * 1000, 0, 0 from unnest($2::text[]) with ordinality x(i, s)");
            clicks.Parameters.AddWithValue($"u{u}");
            clicks.Parameters.AddWithValue(Enumerable.Range(0, History).Select(_ => ids[random.Next(Items)]).ToArray());
            await clicks.ExecuteNonQueryAsync(ct);
        }
    }
}
