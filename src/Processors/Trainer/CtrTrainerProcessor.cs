using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Models.Ctr;
using ReaSeq.Models.Training;

namespace ReaSeq.Processors.Trainer;

/// <summary>
/// reaseq.impressions → the CTR model registry and reaseq.ctr-models (issue 10, paper §2.2, §4.2.4). Impressions
/// become point-in-time examples (<see cref="PostgresFeatureSource"/>) and are trained in mini-batches as they
/// arrive, each scored before it is trained on (prequential AUC / GAUC). Every
/// <see cref="TrainerOptions.VersionIntervalMs"/> the weights become a registry version, announced as a ModelVersion.
/// <para>
/// Durability is per version: a version's row and the offsets its weights trained through commit in one
/// transaction, after its ModelVersion is delivered. A killed trainer loads the active version and resumes from
/// those offsets, re-training the impressions since (the weights trained on them were lost with the process).
/// One trainer per deployment (<see cref="TrainerWorker"/> holds the leader lock), so it owns every partition.
/// </para>
/// </summary>
public sealed class CtrTrainerProcessor(
    AvroSerde<LabeledImpression> impressionSerde,
    ContractValidator validator,
    IKafkaClientSupplier kafka,
    DeadLetterPublisher deadLetters,
    PostgresFeatureSource features,
    CtrRegistry registry,
    TrainerMetrics metrics,
    TrainerOptions options,
    KafkaOptions kafkaOptions,
    ILogger<CtrTrainerProcessor> logger) : IBatchHandler, IDisposable
{
    public const string ModelName = "ctr";

    private readonly ContractProducer _producer = new(kafka, "reaseq-trainer");
    private readonly List<(LabeledImpression Impression, long ProducedMs)> _pending = [];
    private readonly Dictionary<TopicPartition, long> _next = [];
    private readonly HashSet<string> _sidVersions = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dllmVersions = new(StringComparer.Ordinal);
    private readonly Stopwatch _sinceVersion = Stopwatch.StartNew();
    private readonly object _gate = new();
    private OnlineCtrLearner? _learner;
    private string? _baseVersion;
    private long _oldestUnpublishedMs = long.MaxValue;
    private long _newestTrainedMs = long.MinValue;
    private long _prunedThroughMs = long.MinValue;
    private long _trainedSinceVersion;
    private long _consumed;
    private long _deadLettered;
    private long _skipped;

    public string Name => "trainer";

    public IReadOnlyList<string> Topics => [options.InputTopic];

    private string Group => $"{kafkaOptions.GroupPrefix}.{Name}";

    /// <summary>Impression records handled (trained, waiting in the current mini-batch, or dead-lettered).</summary>
    public long Consumed => Interlocked.Read(ref _consumed);

    public long DeadLettered => Interlocked.Read(ref _deadLettered);

    /// <summary>Valid impressions left out by <see cref="TrainerOptions.TrainFraction"/>.</summary>
    public long SkippedBySampling => Interlocked.Read(ref _skipped);

    public double TrainFraction => options.TrainFraction;

    /// <summary>True once the weights are in memory: the registry's active version loaded, or fresh ones initialised.</summary>
    public bool ModelLoaded
    {
        get
        {
            lock (_gate) return _learner is not null;
        }
    }

    /// <summary>The version the in-memory weights started from (resume, rollback) or were last published as.</summary>
    public string? BaseVersion => _baseVersion;

    /// <summary>Prequential metrics now (the rolling window), also handed to <see cref="TrainerMetrics"/>.</summary>
    public CtrEvaluationSnapshot? Evaluate()
    {
        lock (_gate)
        {
            if (_learner is null) return null;
            var snapshot = _learner.Evaluation.Evaluate();
            metrics.Evaluated(snapshot);
            return snapshot;
        }
    }

    public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        if (_learner is null) LoadActiveOrFresh(CancellationToken.None).GetAwaiter().GetResult();
        var stored = PgOffsets.LoadAsync(registry.Database, Group, partitions.Select(p => (p.Topic, p.Partition.Value)).ToList(), CancellationToken.None)
            .GetAwaiter().GetResult();
        var resume = stored.ToDictionary(o => new TopicPartition(o.Topic, o.Partition), o => o.NextOffset);
        foreach (var (tp, next) in resume) _next[tp] = next;
        logger.LogInformation("trainer: resumes {Partitions} partitions from version {Version}", partitions.Count, _baseVersion ?? "(none, fresh weights)");
        return resume;
    }

    public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions)
    {
        // Hand over (or stop) with nothing lost: train what waits and make it a version.
        try
        {
            TrainPendingAsync(CancellationToken.None).GetAwaiter().GetResult();
            PublishAsync(force: true, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "trainer: version on revoke failed; the next trainer resumes from the previous version");
        }
        foreach (var tp in partitions) _next.Remove(tp);
    }

    public async Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken ct)
    {
        var tracker = new DeliveryTracker();
        foreach (var record in batch)
        {
            try
            {
                var value = record.Message.Value;
                if (value is not null && value.Length > kafkaOptions.MaxRecordBytes)
                    throw new ContractException(ErrorClasses.Validation, $"record is {value.Length} bytes, limit {kafkaOptions.MaxRecordBytes}");
                var impression = impressionSerde.Deserialize(value);
                validator.Validate(impression);
                if (Sampled(impression.ImpressionId)) _pending.Add((impression, record.Message.Timestamp.UnixTimestampMs));
                else Interlocked.Increment(ref _skipped);
            }
            catch (ContractException e)
            {
                Interlocked.Increment(ref _deadLettered);
                deadLetters.Publish(tracker, record, Name, e);
            }
            _next[record.TopicPartition] = record.Offset.Value + 1;
            Interlocked.Increment(ref _consumed);
        }
        await tracker.WaitAsync(ct);
        while (_pending.Count >= options.BatchSize) await TrainAsync(options.BatchSize, ct);
        await PublishAsync(force: false, ct);
    }

    /// <summary>A quiet stream trains its partial mini-batch now, so freshness does not wait for traffic.</summary>
    public async Task OnIdleAsync(CancellationToken ct)
    {
        await TrainPendingAsync(ct);
        await PublishAsync(force: false, ct);
    }

    /// <summary>
    /// Trains what waits and publishes a version now, whatever the cadence (tests, tools). Not thread-safe with the
    /// consumer loop: call it only where the loop does not run this handler.
    /// </summary>
    public async Task PublishVersionNowAsync(CancellationToken ct)
    {
        await TrainPendingAsync(ct);
        await PublishAsync(force: true, ct);
    }

    private async Task TrainPendingAsync(CancellationToken ct)
    {
        while (_pending.Count > 0) await TrainAsync(Math.Min(options.BatchSize, _pending.Count), ct);
    }

    private async Task TrainAsync(int count, CancellationToken ct)
    {
        var chunk = _pending.GetRange(0, count);
        var built = await features.BuildAsync(chunk.Select(c => c.Impression).ToList(), ct);
        // The step runs on whichever thread the awaits left it on; libtorch takes its thread count per thread.
        if (options.CpuThreads > 0) TorchDevice.UseCpuThreadsOnThisThread(options.CpuThreads);
        lock (_gate)
        {
            _learner!.Step(built.Examples);
            metrics.Trained(count, _learner.LastLoss);
        }
        _pending.RemoveRange(0, count);
        _sidVersions.UnionWith(built.SemanticIdVersions);
        _dllmVersions.UnionWith(built.DllmVersions);
        _trainedSinceVersion += count;
        _oldestUnpublishedMs = Math.Min(_oldestUnpublishedMs, chunk.Min(c => c.ProducedMs));
        _newestTrainedMs = Math.Max(_newestTrainedMs, chunk.Max(c => c.Impression.TsMs));
    }

    private async Task PublishAsync(bool force, CancellationToken ct)
    {
        if (_learner is null) return;
        if (!force && _sinceVersion.ElapsedMilliseconds < options.VersionIntervalMs) return;
        // A version records offsets past every record handed to this trainer, so the impressions still waiting for a
        // full mini-batch are trained first: else the version claims impressions its weights never saw, and a trainer
        // killed before the next version resumes past them (the chaos suite's SIGKILL scenario lost 24 per kill).
        await TrainPendingAsync(ct);
        if (_trainedSinceVersion == 0) return;

        // A rollback since our last version: continue from the weights the operator chose, drop ours.
        var active = await registry.ActiveAsync(ct);
        if (active is not null && active.Version != _baseVersion)
        {
            logger.LogWarning("trainer: the registry's active version is {Active}, not {Ours} (rolled back); continuing from it", active.Version, _baseVersion);
            await LoadActiveOrFresh(ct);
            ResetSinceVersion();
            return;
        }

        byte[] checkpoint;
        CtrEvaluationSnapshot evaluation;
        lock (_gate)
        {
            // With the optimiser's state: a trainer resuming from this version continues exactly where this one is.
            checkpoint = _learner.SaveCheckpoint();
            evaluation = _learner.Evaluation.Evaluate();
        }
        metrics.Evaluated(evaluation);
        long seq = await registry.NextSeqAsync(ct);
        string version = $"ctr-{seq:D6}-{Convert.ToHexStringLower(SHA256.HashData(checkpoint))[..10]}";
        var offsets = _next.Select(kv => new PartitionOffset(kv.Key.Topic, kv.Key.Partition.Value, kv.Value)).OrderBy(o => o.Partition).ToList();
        var metricValues = evaluation.ToDictionary();
        metricValues["trained_examples"] = _learner.TrainedExamples;
        metricValues["loss"] = _learner.LastLoss;
        var lineage = new Dictionary<string, object?>
        {
            ["parent"] = _baseVersion,
            ["semantic_id_versions"] = _sidVersions.Order(StringComparer.Ordinal).ToArray(),
            ["dllm_versions"] = _dllmVersions.Order(StringComparer.Ordinal).ToArray(),
            ["input_offsets"] = offsets.Select(o => new { topic = o.Topic, partition = o.Partition, next_offset = o.NextOffset }).ToArray(),
            ["trained_since_parent"] = _trainedSinceVersion,
        };
        string config = JsonSerializer.Serialize(options.Model);
        string metricsJson = JsonSerializer.Serialize(metricValues.Where(kv => double.IsFinite(kv.Value)).ToDictionary());

        // Outputs delivered before state commits: the announcement first, then the row and offsets in one transaction.
        var tracker = new DeliveryTracker();
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _producer.Produce(options.OutputTopic, ModelName, new ModelVersion
        {
            ModelName = ModelName,
            Version = seq,
            Metrics = metricValues.Where(kv => double.IsFinite(kv.Value)).ToDictionary(StringComparer.Ordinal),
            CheckpointRef = version,
            TsMs = now,
        }, tracker);
        await tracker.WaitAsync(ct);
        await registry.PublishAsync(Group, version, seq, checkpoint, config, metricsJson, JsonSerializer.Serialize(lineage), offsets, options.KeepCheckpoints, ct);

        double? freshness = _oldestUnpublishedMs == long.MaxValue ? null
            : Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - _oldestUnpublishedMs) / 1000.0;
        metrics.Published(version, seq, freshness);
        logger.LogInformation("trainer: published {Version} ({Trained} new impressions, AUC {Auc:F4}, GAUC {Gauc:F4}, freshness {Freshness:F1} s)",
            version, _trainedSinceVersion, evaluation.Overall.Auc, evaluation.Overall.Gauc, freshness ?? double.NaN);
        _baseVersion = version;
        ResetSinceVersion();
        // New knowledge vectors and semantic ids reach the next version's features.
        features.ClearCache();
        await PruneAugmentedAsync(ct);
    }

    /// <summary>
    /// Retention of ctr_augmented_sequences (<see cref="TrainerOptions.AugmentedRetentionMs"/>), in event time behind the
    /// newest impression trained on, so a replay of an old data set prunes by its own clock. It runs after a version is
    /// durable and only once the cutoff has moved by a tenth of the retention (at least a minute): the delete reads every
    /// row older than the cutoff, and doing that at each version would cost more than the rows it frees.
    /// </summary>
    private async Task PruneAugmentedAsync(CancellationToken ct)
    {
        long retention = options.AugmentedRetentionMs;
        if (retention <= 0 || _newestTrainedMs == long.MinValue) return;
        long cutoff = _newestTrainedMs - retention;
        if (_prunedThroughMs != long.MinValue && cutoff - _prunedThroughMs < Math.Max(60_000, retention / 10)) return;
        int deleted;
        try
        {
            deleted = await features.PruneAugmentedAsync(cutoff, ct);
        }
        catch (Npgsql.NpgsqlException e)
        {
            // The version is already durable: a failed prune must not fail (and so retrain) the batch; the next one retries.
            logger.LogWarning("trainer: pruning augmented sequences failed ({Reason}); retried after the next version", e.Message);
            return;
        }
        _prunedThroughMs = cutoff;
        if (deleted > 0) logger.LogInformation("trainer: pruned {Rows} augmented sequences superseded before {Cutoff:O}", deleted, DateTimeOffset.FromUnixTimeMilliseconds(cutoff));
    }

    /// <summary>A stable choice per impression id (FNV-1a), so a replay and its restart train on the same impressions.</summary>
    private bool Sampled(string impressionId)
    {
        if (options.TrainFraction >= 1.0) return true;
        uint hash = 2166136261;
        foreach (char c in impressionId)
        {
            hash ^= c;
            hash *= 16777619;
        }
        return hash / (double)uint.MaxValue < options.TrainFraction;
    }

    private void ResetSinceVersion()
    {
        _trainedSinceVersion = 0;
        _oldestUnpublishedMs = long.MaxValue;
        _sinceVersion.Restart();
    }

    private async Task LoadActiveOrFresh(CancellationToken ct)
    {
        if (options.CpuThreads > 0) TorchDevice.SetCpuThreads(options.CpuThreads);
        var active = await registry.ActiveAsync(ct);
        byte[]? checkpoint = active is null ? null : await registry.CheckpointAsync(active.Version, ct);
        if (checkpoint is not null)
        {
            var loaded = CtrModelCheckpoint.ReadOptions(checkpoint);
            if (loaded.PathwayName != options.Model.PathwayName)
            {
                logger.LogWarning("trainer: active version {Version} has pathways {Loaded}; configuration asks for {Configured}; keeping the checkpoint's",
                    active!.Version, loaded.PathwayName, options.Model.PathwayName);
            }
            // Weights and optimiser state (Adam's moments and step), so training continues as if never stopped.
            lock (_gate)
            {
                if (_learner is null) _learner = OnlineCtrLearner.Resume(checkpoint, options.Model.Device, options.EvaluationWindow);
                else _learner.Replace(checkpoint, options.Model.Device);
            }
        }
        else
        {
            Determinism.Seed(options.Seed);
            var model = CtrModel.Create(options.Model);
            lock (_gate)
            {
                if (_learner is null) _learner = new OnlineCtrLearner(model, options.EvaluationWindow);
                else _learner.Replace(model);
            }
        }
        _baseVersion = checkpoint is null ? null : active!.Version;
    }

    public void Dispose()
    {
        _producer.Dispose();
        _learner?.Dispose();
    }
}
