using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Models.Dllm;
using ReaSeq.Models.Training;
using ReaSeq.Processors.Dllm;
using ReaSeq.Processors.VectorStores;
using TorchSharp;
using static TorchSharp.torch;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// The dllm role (issue 9 §6): a training step of the paper's tiny LLaDA (4 layers, d 128, length 200) at batch 256
/// and at a small batch, its FLOP/s beside a large matmul's FLOP/s measured in the same run; inference sequences/s at
/// window 50; and SequenceUpdate → AugmentedSequence latency through the embedded broker, PostgreSQL and the real
/// filling job. Device: Dllm device "auto" (CUDA when present, else CPU), recorded in the results.
/// </summary>
public sealed class DllmBenchmark : IBenchmark
{
    private const int ItemDim = 384;
    private const int Items = 5_000;
    private const int Window = 50;
    private const int PacedRate = 100;
    private const int PacedSeconds = 5;

    public string Name => "dllm";

    public async Task<JsonObject> RunAsync(CancellationToken ct)
    {
        var device = TorchDevice.Resolve(Environment.GetEnvironmentVariable("REASEQ_BENCH_DEVICE") ?? "auto");
        var random = Determinism.Seed(17);
        var items = Enumerable.Range(0, Items).Select(_ => Unit(random)).ToArray();
        var figures = new JsonObject
        {
            ["device"] = device.ToString(),
            ["torch_threads"] = get_num_threads(),
            ["model"] = "LLaDA tiny: 4 layers, d 128, 8 heads, item vectors 384 (paper §4.2.1)",
        };

        // 1. Training: the paper's shape at batch 256 (few steps: slow on CPU) and at batch 32; a matmul as the ceiling.
        int matmulN = device.type == DeviceType.CUDA ? 8_192 : 2_048;
        double matmul = MatmulBaseline.Flops(matmulN, matmulN, matmulN, TimeSpan.Zero, minimumCalls: device.type == DeviceType.CUDA ? 20 : 3, device);
        figures["matmul_n"] = matmulN;
        figures["train_sampling_bias_correction"] = true;
        figures["matmul_gflop_per_s"] = Math.Round(matmul / 1e9, 1);
        foreach (var (batch, steps) in device.type == DeviceType.CUDA ? new[] { (256, 10), (3_200, 5) } : [(256, 1), (32, 3)])
        {
            var (seconds, flops) = TrainingStep(device, random, items, batch, length: 200, steps);
            figures[$"train_b{batch}_steps_measured"] = steps;
            figures[$"train_b{batch}_step_s"] = Math.Round(seconds, 3);
            figures[$"train_b{batch}_gflop_per_step"] = Math.Round(flops / 1e9, 1);
            figures[$"train_b{batch}_gflop_per_s"] = Math.Round(flops / seconds / 1e9, 1);
            figures[$"train_b{batch}_vs_matmul"] = Math.Round(flops / seconds / matmul, 3);
        }
        figures["target_train_vs_matmul"] = 0.5;
        figures["meets_train_target"] = figures["train_b256_vs_matmul"]!.GetValue<double>() >= 0.5;

        // 2. Inference at window 50 (about 10 % gaps), in the role's micro-batches of 64 at the padded bucket length.
        var inference = InferenceRate(device, random, items);
        figures["inference_window"] = Window;
        figures["inference_sequences_per_s"] = Math.Round(inference);
        figures["target_inference_sequences_per_s"] = 500;
        figures["meets_inference_target"] = inference >= 500;

        // 3. The filling job end to end.
        foreach (var (key, value) in await LatencyAsync(device, random, items, ct)) figures[key] = value?.DeepClone();
        figures["note"] = "A shared machine: other processes competed for the cores during the run, so CPU figures are lower bounds.";
        return figures;
    }

    private static LladaTinyOptions Paper(Device device) => new() { Device = device.type == DeviceType.CUDA ? "cuda" : "cpu", Dropout = 0.1 };

    /// <summary>Seconds per step, and the step's FLOPs (3 × the forward's matmul FLOPs: forward, input and weight gradients).</summary>
    private static (double Seconds, double Flops) TrainingStep(Device device, Random random, float[][] items, int batch, int length, int steps)
    {
        var options = Paper(device);
        using var model = LladaTiny.Create(options);
        using var trainer = new LladaTrainer(model);
        var windows = Enumerable.Range(0, batch).Select(u => RandomWindow(random, $"u{u}", length * 9 / 10, length / 10)).ToList();
        // As the role's trainer runs by default: Eq. 7 with the sampling-bias correction (Dllm:Trainer:SamplingBiasCorrection).
        var (input, _) = DllmBatch.Build(windows, id => items[int.Parse(id.AsSpan(1))], ItemDim, batch, length, device, DllmTrainer.TargetLogPrior(windows));
        using (input)
        {
            trainer.Step(input); // warm-up: allocations, kernel choice
            if (device.type == DeviceType.CUDA) cuda.synchronize();
            var clock = Stopwatch.StartNew();
            for (int s = 0; s < steps; s++) trainer.Step(input);
            if (device.type == DeviceType.CUDA) cuda.synchronize();
            double d = options.ModelDim, tokens = (double)batch * length;
            double perToken = 2 * ItemDim * d * 2 + options.Layers * (2 * 12 * d * d + 4 * length * d);
            return (clock.Elapsed.TotalSeconds / steps, 3 * perToken * tokens);
        }
    }


    private static double InferenceRate(Device device, Random random, float[][] items)
    {
        using var model = LladaTiny.Create(Paper(device));
        model.SetTraining(false);
        var windows = Enumerable.Range(0, 64).Select(u => RandomWindow(random, $"u{u}", Window, Window / 10)).ToList();
        int length = DllmBatch.Bucket(windows.Max(w => w.TokenCount), 200);
        var (input, _) = DllmBatch.Build(windows, id => items[int.Parse(id.AsSpan(1))], ItemDim, 64, length, device);
        using (input)
        {
            using (model.Fill(input)) { }
            int calls = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(5) || calls < 3)
            {
                using var fill = model.Fill(input);
                _ = fill.Vectors.cpu().data<float>()[0];
                calls++;
            }
            return calls * 64 / clock.Elapsed.TotalSeconds;
        }
    }

    private static async Task<JsonObject> LatencyAsync(Device device, Random random, float[][] items, CancellationToken ct)
    {
        await using var db = await BenchDatabase.OpenAsync(ct);
        using var broker = new EmbeddedKafkaBroker(3);
        var kafkaOptions = new KafkaOptions { Partitions = 6, MaxBatchSize = 500, MaxBatchWaitMs = 5 };
        using var kafka = new KafkaClientSupplier(kafkaOptions, broker);
        await using var index = new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions { Dimension = ItemDim });
        await index.UpsertAsync(items.Select((v, i) => new VectorPoint($"i{i}", v)).ToList(), ct);
        var store = new DllmStore(db, "bench");
        var modelOptions = Paper(device);
        using (var model = LladaTiny.Create(modelOptions))
        using (var stream = new MemoryStream())
        {
            model.Save(stream);
            await store.AddVersionAsync(0, 0, new Dictionary<string, double>(), stream.ToArray(), ct);
        }
        var dllm = new DllmOptions { Device = device.type == DeviceType.CUDA ? "cuda" : "cpu", MicroBatch = 64, Nearest = 10 };
        using var metrics = new DllmMetrics();
        using var deadLetters = new DeadLetterPublisher(kafka, new AvroSerde<DeadLetter>(), NullLogger<DeadLetterPublisher>.Instance);
        using var filler = new DllmFiller(new AvroSerde<SequenceUpdate>(), new AvroSerde<AugmentedSequence>(), kafka, deadLetters, store,
            new ItemVectors(index, db, ownsStore: false), modelOptions, dllm, kafkaOptions, metrics, NullLogger<DllmFiller>.Instance);
        await filler.WaitForModelAsync(ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var loop = Task.Factory.StartNew(() => new BatchConsumerLoop(kafka, kafkaOptions, NullLogger.Instance).RunAsync(filler, "bench", cts.Token),
            cts.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

        var serde = new AvroSerde<SequenceUpdate>();
        var sent = new ConcurrentDictionary<string, long>();
        var latencies = new ConcurrentBag<double>();
        var reading = Task.Factory.StartNew(() =>
        {
            using var consumer = kafka.CreateConsumer("bench-dllm-latency", "bench-dllm-latency");
            consumer.Assign(Enumerable.Range(0, kafkaOptions.Partitions).Select(p => new TopicPartitionOffset(Topics.AugmentedSequences, p, Offset.Beginning)));
            var outputs = new AvroSerde<AugmentedSequence>();
            while (!cts.IsCancellationRequested)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(50)) is not { IsPartitionEOF: false } r) continue;
                var now = Stopwatch.GetTimestamp();
                if (sent.TryRemove(outputs.Deserialize(r.Message.Value).UserId, out var t)) latencies.Add(Stopwatch.GetElapsedTime(t, now).TotalMilliseconds);
            }
        }, cts.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        // Throughput on a pre-filled log, then latency at a paced rate.
        const int backlog = 1_000;
        using (var producer = new ContractProducer(kafka, "bench-dllm-backlog"))
        {
            for (int u = 0; u < backlog; u++) producer.Produce(Topics.SequenceGaps, $"b{u}", Update(random, $"b{u}"));
            producer.Flush(ct);
        }
        var clock = Stopwatch.StartNew();
        while (filler.Consumed < backlog && clock.Elapsed < TimeSpan.FromMinutes(5)) await Task.Delay(5, ct);
        double roleRate = filler.Consumed / clock.Elapsed.TotalSeconds;
        latencies.Clear();
        using (var producer = kafka.CreateProducer("bench-dllm-paced"))
        {
            var paced = Stopwatch.StartNew();
            for (int i = 0; i < PacedRate * PacedSeconds; i++)
            {
                var due = TimeSpan.FromSeconds((double)i / PacedRate);
                while (paced.Elapsed < due) await Task.Delay(1, ct);
                var user = $"p{i}";
                sent[user] = Stopwatch.GetTimestamp();
                producer.Produce(Topics.SequenceGaps, new Message<byte[]?, byte[]?> { Key = System.Text.Encoding.UTF8.GetBytes(user), Value = serde.Serialize(Update(random, user)) });
                producer.Poll(TimeSpan.Zero);
            }
            producer.Flush(ct);
        }
        var deadline = Stopwatch.StartNew();
        while (!sent.IsEmpty && deadline.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(20, ct);
        await cts.CancelAsync();
        await loop;
        try { await reading; } catch (OperationCanceledException) { }

        var sorted = latencies.Order().ToArray();
        double P(double q) => sorted.Length == 0 ? double.NaN : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))], 1);
        return new JsonObject
        {
            ["role_backlog_updates"] = backlog,
            ["role_updates_per_s"] = Math.Round(roleRate),
            ["role_fills"] = filler.Fills,
            ["latency_rate_updates_per_s"] = PacedRate,
            ["latency_samples"] = sorted.Length,
            ["latency_unmatched"] = sent.Count,
            ["latency_p50_ms"] = P(0.50),
            ["latency_p99_ms"] = P(0.99),
        };
    }

    private static SequenceUpdate Update(Random random, string user)
    {
        var update = new SequenceUpdate { UserId = user, SequenceVersion = Window, Variant = "TemporalOrCategory", TsMs = 1_700_000_000_000 };
        for (int i = 0; i < Window; i++) update.Window.Add(new SequenceEntry { ItemId = $"i{random.Next(Items)}", TsMs = 1_700_000_000_000 + i * 1_000L });
        foreach (var p in Enumerable.Range(1, Window - 1).OrderBy(_ => random.Next()).Take(Window / 10).Order())
            update.Gaps.Add(new SequenceGap { Position = p, Reasons = [GapReason.TD] });
        update.LabeledPositions.Add(new LabeledPosition { Position = 0, Delta = 1.5 });
        return update;
    }

    private static GapWindow RandomWindow(Random random, string user, int items, int gaps) =>
        new(user, 1, Enumerable.Range(0, items).Select(_ => $"i{random.Next(Items)}").ToList(),
            Enumerable.Range(0, items).OrderBy(_ => random.Next()).Take(Math.Max(1, items / 10)).Order().ToList(),
            Enumerable.Range(0, items).OrderBy(_ => random.Next()).Take(gaps).Order().ToList(), 0);

    private static float[] Unit(Random random)
    {
        var v = Enumerable.Range(0, ItemDim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }
}
