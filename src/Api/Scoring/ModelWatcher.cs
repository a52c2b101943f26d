using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ReaSeq.Api.Features;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Models.Ctr;
using ReaSeq.Models.Training;

namespace ReaSeq.Api.Scoring;

/// <summary>
/// Hot swap (issue 11): tails reaseq.ctr-models (every partition; each replica must hear every announcement), and on
/// an announcement of the served model name serves the registry's active version: its checkpoint is loaded and warmed
/// up beside the current model, the recently active users' states are encoded on it, then it is swapped in atomically
/// (<see cref="CtrModelHolder"/>). A rollback (the registry's
/// active row moved back) is served the same way. The registry is also read at start and every
/// Api:ModelPollMs, so a missed announcement delays a swap but never loses it.
/// </summary>
public sealed class ModelWatcher(IKafkaClientSupplier kafka, ModelRegistry registry, CtrModelHolder holder, UserStateCache userStates,
    AvroSerde<ModelVersion> serde, ApiOptions options, ApiMetrics metrics, ILogger<ModelWatcher> logger) : BackgroundService
{
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _failedVersion;

    /// <summary>Completes once the topic is tailed (announcements made afterwards will be heard).</summary>
    public Task WhenListening => _listening.Task;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => RunAsync(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task RunAsync(CancellationToken ct)
    {
        IConsumer<byte[]?, byte[]?>? consumer = null;
        while (consumer is null && !ct.IsCancellationRequested)
        {
            try
            {
                consumer = TopicTail.Open(kafka, "reaseq-api-models", [Topics.CtrModels], fromBeginning: false);
            }
            catch (Exception e) when (e is KafkaException or InvalidOperationException)
            {
                logger.LogWarning("api: cannot tail {Topic} yet ({Message}); retrying", Topics.CtrModels, e.Message);
                await Delay(1_000, ct);
            }
        }
        if (consumer is null) return;
        using (consumer)
        {
            _listening.TrySetResult();
            var nextPoll = 0L; // the registry is read first: what was registered before the tail started
            while (!ct.IsCancellationRequested)
            {
                if (Environment.TickCount64 >= nextPoll)
                {
                    await ServeActiveAsync(null, ct);
                    nextPoll = Environment.TickCount64 + options.ModelPollMs;
                }
                ConsumeResult<byte[]?, byte[]?>? result;
                try
                {
                    result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                }
                catch (ConsumeException e)
                {
                    logger.LogWarning("api: {Topic} consume error: {Reason}", Topics.CtrModels, e.Error.Reason);
                    continue;
                }
                if (result is null || result.IsPartitionEOF) continue;
                ModelVersion announced;
                try
                {
                    announced = serde.Deserialize(result.Message.Value);
                }
                catch (ContractException e)
                {
                    logger.LogWarning("api: undecodable model announcement at offset {Offset} skipped: {Message}", result.Offset.Value, e.Message);
                    continue;
                }
                if (announced.ModelName != options.ModelName) continue;
                await ServeActiveAsync(announced.Version, ct);
            }
            consumer.Close();
        }
    }

    /// <summary>Serves the registry's active version if it is not served yet. <paramref name="announcedSeq"/>: wait (bounded)
    /// until the announced version is registered, in case the announcement overtook the registry's commit.</summary>
    public async Task ServeActiveAsync(long? announcedSeq, CancellationToken ct)
    {
        try
        {
            if (announcedSeq is { } seq)
            {
                var deadline = Environment.TickCount64 + 10_000;
                while (!await registry.HasSeqAsync(seq, ct) && Environment.TickCount64 < deadline) await Delay(100, ct);
            }
            var active = await registry.ActiveAsync(ct);
            if (active is null || active.Version == holder.Current?.Version || active.Version == _failedVersion) return;
            await LoadAndSwapAsync(active, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Npgsql.NpgsqlException e)
        {
            logger.LogWarning("api: reading the model registry failed ({Message}); the current model keeps serving", e.Message);
        }
    }

    private async Task LoadAndSwapAsync(RegistryRow row, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        byte[] checkpoint;
        try
        {
            checkpoint = await registry.CheckpointAsync(row.Version, ct);
        }
        catch (Exception e) when (Unloadable(e))
        {
            Failed(row, e);
            return;
        }
        // Loading, warming and pre-encoding take the CPU for a while: on a thread of their own, not on one of the pool's
        // threads that Kestrel needs for requests (the api benchmark's swap phase had a p999 of 80-93 ms while its handler's
        // slowest took 18-36 ms).
        await Task.Factory.StartNew(() => LoadWarmAndSwap(row, checkpoint, started, ct), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private static bool Unloadable(Exception e) =>
        e is InvalidDataException or InvalidOperationException or ArgumentException or System.ComponentModel.DataAnnotations.ValidationException;

    private void Failed(RegistryRow row, Exception e)
    {
        _failedVersion = row.Version;
        metrics.ModelLoadFailures.Add(1);
        logger.LogError("api: CTR model {Version} cannot be loaded ({Message}); {Current} keeps serving", row.Version, e.Message, holder.Current?.Version ?? "no model");
    }

    private void LoadWarmAndSwap(RegistryRow row, byte[] checkpoint, long started, CancellationToken ct)
    {
        ServingModel model;
        try
        {
            var modelOptions = CtrModelCheckpoint.ReadOptions(checkpoint);
            // Serving runs on the CPU of this process whatever device the trainer used.
            model = new ServingModel(CtrModelCheckpoint.Load(checkpoint, row.Version, "cpu"), modelOptions, row.Version, row.Seq);
        }
        catch (Exception e) when (Unloadable(e))
        {
            Failed(row, e);
            return;
        }
        // This thread's ops run as the scoring threads' do (libtorch sets its thread count per thread).
        TorchDevice.UseCpuThreadsOnThisThread(options.TorchThreads);
        // One warm-up request on the new weights before any ranker's request reaches them (first-call costs of libtorch).
        // Every pathway runs once (a history, a target with vector and semantic id, a content-only target).
        var d = model.Options.ItemVectorDim;
        var history = Enumerable.Range(0, Math.Min(16, model.Options.MaxHistory)).Select(i => { var v = new float[d]; v[i % d] = 1f; return v; }).ToList();
        var target = new float[d];
        target[0] = 1f;
        // The split path (user step, then candidate step) is what requests run.
        using (var warmUser = model.Scorer.EncodeUser(new CtrUserFeatures("warm-up", history, history.Select(_ => (int[]?)[0, 0]).ToList(), null, history.Count)))
            model.Scorer.Score(warmUser, [new CtrCandidate("warm-up", target, [0, 0], 1, 1, 1), new CtrCandidate("warm-up-content", null, null, 1, 1, 1)]);
        // The recently active users' states on the new weights, encoded before the swap (off the request path): after it
        // their requests run the candidate step only. Their model input is reused when the new version reads the same
        // vector width and history length (what the input was built for).
        var current = holder.Current;
        var prewarmed = new List<(UserStateCache.Entry Old, CtrUserState State)>();
        if (current is not null && current.Options.ItemVectorDim == model.Options.ItemVectorDim && current.Options.MaxHistory == model.Options.MaxHistory)
        {
            foreach (var entry in userStates.MostRecent(options.Cache.PrewarmUserStates))
            {
                if (ct.IsCancellationRequested) break;
                prewarmed.Add((entry, model.Scorer.EncodeUser(entry.Features)));
            }
        }
        var previous = current?.Version;
        holder.Swap(model);
        foreach (var (old, state) in prewarmed) userStates.Add(old.Source, model.Version, old.Features, state).Release();
        logger.LogInformation("api: serving CTR model {Version} (was {Previous}); loaded in {Ms:F0} ms", row.Version, previous ?? "none",
            System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private static Task Delay(int ms, CancellationToken ct) => Task.Delay(ms, ct).ContinueWith(_ => { }, TaskScheduler.Default);
}
