using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Ingestors.Streaming.Operations;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Processors.Sequence.Streaming;

/// <summary>
/// reaseq.clicks → reaseq.sequence-gaps. Each owned partition has its own detector and collaborative model, so a
/// partition's state is self-contained: it moves with the partition on a rebalance and is checkpointed with that
/// partition's offset. Decisions are a pure function of (checkpoint, records), so after a crash the records since
/// the checkpoint are replayed and re-publish byte-identical updates (same key and sequence_version), never
/// different ones. Clicks are checked by the same <see cref="ContractValidator"/> as the ingest role (and must be keyed by
/// their user), so both roles dead-letter the same records with the same reasons and an invalid click never reaches the
/// detector (it never moves a user's newest time or the model's clock); this role also dead-letters what only it can
/// judge (too late, outside the window). A batch's updates and dead letters are delivered before its checkpoint can
/// commit; when one is not, the batch fails and its retry re-sends the same records (its decisions are already made).
/// </summary>
public sealed class SequenceProcessor(
    AvroSerde<ClickEvent> clickSerde,
    AvroSerde<SequenceUpdate> updateSerde,
    ContractValidator validator,
    IKafkaClientSupplier kafka,
    DeadLetterPublisher deadLetters,
    ISequenceCheckpointStore checkpoints,
    ItemCategoryResolver categories,
    SequenceDetectorOptions detectorOptions,
    SwingModelOptions modelOptions,
    SequenceProcessorOptions options,
    KafkaOptions kafkaOptions,
    ILogger<SequenceProcessor> logger,
    NpgsqlDataSource? db = null) : IBatchHandler, IDisposable
{
    private sealed class PartitionState(SequenceDetector detector, SwingCooccurrenceModel model)
    {
        public readonly SequenceDetector Detector = detector;
        public SwingCooccurrenceModel Model = model;
        /// <summary>The global model version in use (0: none loaded; partition-local model).</summary>
        public long ModelVersion;
        public long NextOffset;
        public readonly Stopwatch SinceCheckpoint = Stopwatch.StartNew();
        public bool Dirty;
    }

    /// <summary>
    /// A batch whose decisions are made (the detectors moved on) but not yet durable: its outputs, as re-sendable
    /// actions, until all are delivered; then only its checkpoint is due. The loop retries exactly this batch.
    /// </summary>
    private sealed class DecidedBatch(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, List<Action<DeliveryTracker>> sends, HashSet<int> partitions, int updates,
        List<Timestamp> accepted)
    {
        /// <summary>When each accepted click entered the platform: its freshness is measured once its update is delivered.</summary>
        public readonly List<Timestamp> Accepted = accepted;
        public readonly IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> Batch = batch;
        public readonly List<Action<DeliveryTracker>> Sends = sends;
        public readonly HashSet<int> Partitions = partitions;
        public readonly int Updates = updates;
        public bool Delivered;
    }

    private readonly Dictionary<int, PartitionState> _partitions = new();
    private readonly ContractProducer _producer = new(kafka, "reaseq-sequence");
    private DecidedBatch? _decided;
    private readonly object _gate = new();
    private long _published;
    private long _skippedInvalid;
    private long _consumed;
    private readonly NpgsqlDataSource? _db = db ?? (checkpoints as PostgresSequenceCheckpointStore)?.Database;
    private SharedTemporalThresholds? _sharedThresholds;
    private PostgresGlobalModelStore? _globalModels;
    private (long Version, SwingCooccurrenceModel Model, byte[] Bytes)? _globalModel;
    private volatile Tuple<long, byte[]>? _pendingGlobalModel;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _globalModelLoop;

    public string Name => "sequence";

    public IReadOnlyList<string> Topics { get; } = [Contracts.Topics.Clicks];

    private string Group => $"{kafkaOptions.GroupPrefix}.{Name}";

    public long Published => Interlocked.Read(ref _published);

    /// <summary>Clicks rejected before the detector (undecodable, invalid, keyed by another user) and dead-lettered.</summary>
    public long SkippedInvalid => Interlocked.Read(ref _skippedInvalid);

    /// <summary>Click records handled (any outcome), for progress and lag.</summary>
    public long Consumed => Interlocked.Read(ref _consumed);

    public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        var resume = new Dictionary<TopicPartition, long>();
        foreach (var tp in partitions)
        {
            var state = NewState();
            var checkpoint = checkpoints.LoadAsync(Group, tp.Topic, tp.Partition.Value, CancellationToken.None).GetAwaiter().GetResult();
            if (checkpoint is null && options.ModelSource == SequenceModelSource.Global) UseGlobalModel(state, LatestGlobalModel());
            if (checkpoint is not null)
            {
                Restore(state, checkpoint.Snapshot);
                state.NextOffset = checkpoint.NextOffset;
                resume[tp] = checkpoint.NextOffset;
                logger.LogInformation("sequence: partition {Partition} resumes at offset {Offset} with {Users} users", tp.Partition.Value, checkpoint.NextOffset, state.Detector.UserCount);
            }
            lock (_gate) _partitions[tp.Partition.Value] = state;
        }
        return resume;
    }

    public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions)
    {
        // Hand over cleanly: checkpoint what we own so the next owner replays nothing (Checkpoint leaves out partitions
        // whose outputs are not delivered: their next owner replays from the previous checkpoint and re-publishes them).
        var owned = partitions.Select(p => p.Partition.Value).Where(_partitions.ContainsKey).ToList();
        try
        {
            Checkpoint(owned, force: true, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "sequence: checkpoint on revoke failed; the next owner replays from the previous checkpoint");
        }
        lock (_gate)
        {
            foreach (var p in owned)
            {
                _partitions[p].Detector.Dispose();
                _partitions.Remove(p);
            }
        }
        if (_decided is { } decided && decided.Partitions.Overlaps(owned))
        {
            decided.Partitions.ExceptWith(owned);
            if (decided.Partitions.Count == 0) _decided = null;
        }
    }

    public async Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken ct)
    {
        if (_decided is { } retried)
        {
            // The consumer loop retries a failed batch until it succeeds; it never moves on before.
            if (!ReferenceEquals(retried.Batch, batch))
            {
                throw new InvalidOperationException("sequence: the previous batch's outputs are not durable; it must be retried before another batch is handled");
            }
            await CompleteAsync(retried, ct);
            return;
        }

        var decoded = new List<(ConsumeResult<byte[]?, byte[]?> Source, ClickEvent? Click)>(batch.Count);
        var sends = new List<Action<DeliveryTracker>>();
        foreach (var r in batch)
        {
            ClickEvent? click = null;
            try
            {
                var value = r.Message.Value;
                if (value is not null && value.Length > kafkaOptions.MaxRecordBytes)
                    throw new ContractException(ErrorClasses.Validation, $"record is {value.Length} bytes, limit {kafkaOptions.MaxRecordBytes}");
                click = clickSerde.Deserialize(value);
                validator.Validate(click);
                validator.ValidateKey(click, r.Message.Key);
            }
            catch (ContractException e)
            {
                click = null;
                Interlocked.Increment(ref _skippedInvalid);
                sends.Add(t => deadLetters.Publish(t, r, Name, e));
            }
            decoded.Add((r, click));
        }
        // Only clicks without their own category need the catalog.
        await categories.PrefetchAsync(decoded.Where(d => d.Click is { } c && !c.Context.ContainsKey("category")).Select(d => d.Click!.ItemId), ct);
        await SwapGlobalModelAsync(decoded.Select(d => d.Source.Partition.Value).Distinct().ToList(), ct);
        var clicks = decoded.Select(d => d.Click is { } c ? ToSequenceClick(c) : (SequenceClick?)null).ToList();
        if (_sharedThresholds is { } shared)
        {
            await shared.PrepareAsync(clicks.Where(c => c is not null).SelectMany(c => shared.Needed(c!.Value.Domain, c.Value.TimestampMs)),
                () => _partitions.Select(kv => (kv.Key, kv.Value.Detector)).OrderBy(p => p.Key), ct);
        }

        var changed = new Dictionary<(int Partition, string User), UserSequence>();
        var accepted = new List<Timestamp>();
        for (var n = 0; n < decoded.Count; n++)
        {
            var (source, click) = decoded[n];
            var state = _partitions[source.Partition.Value];
            state.NextOffset = source.Offset.Value + 1;
            state.Dirty = true;
            if (click is null) continue;
            var result = state.Detector.Process(clicks[n]!.Value);
            if (result.IsAccepted)
            {
                changed[(source.Partition.Value, click.UserId)] = result.Sequence!;
                accepted.Add(source.Message.Timestamp);
            }
            else if (result.ShouldDeadLetter)
            {
                var errorClass = result.Status == ClickStatus.RejectedInvalid ? ErrorClasses.Validation : ErrorClasses.OutOfOrder;
                var message = $"{result.Status}: {result.Detail}";
                sends.Add(t => deadLetters.Publish(t, source, Name, errorClass, message));
            }
        }

        // Outputs first, then the checkpoint: a crash in between replays and re-publishes identical updates.
        foreach (var ((partition, user), sequence) in changed)
        {
            var key = System.Text.Encoding.UTF8.GetBytes(user);
            var value = updateSerde.Serialize(ToContract(sequence, _partitions[partition].Detector.Options.Variant));
            sends.Add(t => _producer.ProduceRaw(options.OutputTopic, key, value, t));
        }
        _decided = new DecidedBatch(batch, sends, decoded.Select(d => d.Source.Partition.Value).ToHashSet(), changed.Count, accepted);
        await CompleteAsync(_decided, ct);
    }

    /// <summary>Delivers a decided batch's outputs (again, after a failure), then checkpoints what is due.</summary>
    private async Task CompleteAsync(DecidedBatch decided, CancellationToken ct)
    {
        if (!decided.Delivered)
        {
            var deliveries = new DeliveryTracker();
            foreach (var send in decided.Sends) send(deliveries);
            await deliveries.WaitAsync(ct);
            decided.Delivered = true;
            // Freshness (DESIGN §6, latency metrics): click entering the platform → its SequenceUpdate acknowledged by the broker.
            var now = DateTimeOffset.UtcNow;
            foreach (var enteredAt in decided.Accepted) StreamingMetrics.RecordFreshness("sequence_update", enteredAt, now);
            Interlocked.Add(ref _published, decided.Updates);
        }
        await Checkpoint(decided.Partitions.ToList(), force: false, ct);
        _decided = null;
        Interlocked.Add(ref _consumed, decided.Batch.Count);
    }

    /// <summary>Quiet partitions still get their due checkpoint, so a restart replays little.</summary>
    public Task OnIdleAsync(CancellationToken cancellationToken) => Checkpoint(_partitions.Keys.ToList(), force: false, cancellationToken);

    /// <summary>Statistics of all owned partitions, summed (the paper's Table 5 columns per variant).</summary>
    public IReadOnlyList<SequenceStatistics> Statistics()
    {
        lock (_gate) return _partitions.Values.Select(p => p.Detector.GetStatistics()).ToList();
    }

    public static SequenceUpdate ToContract(UserSequence sequence, DetectionVariant variant)
    {
        var update = new SequenceUpdate
        {
            UserId = sequence.UserId,
            SequenceVersion = sequence.AcceptedEvents,
            Variant = variant.ToString(),
            TsMs = sequence.LastTimestampMs,
        };
        for (var i = 0; i < sequence.Count; i++)
        {
            ref readonly var entry = ref sequence[i];
            update.Window.Add(new SequenceEntry { ItemId = entry.ItemId, TsMs = entry.TimestampMs, Category = entry.Category ?? "" });
            if (entry.IsLabeled) update.LabeledPositions.Add(new LabeledPosition { Position = i, Delta = entry.LabelDelta });
            if (entry.Incoming is not { } t || !t.IsGap(variant)) continue;
            var gap = new SequenceGap
            {
                Position = i,
                DeltaMs = t.DeltaMs,
                ThresholdMs = t.ThresholdMs,
                PrevCategory = t.FromCategory ?? "",
                NextCategory = t.ToCategory ?? "",
                Rank = t.RankStatus is RankStatus.Ranked or RankStatus.OutsideCandidates ? t.Rank : -1,
            };
            if ((t.Reasons & GapReasonFlags.Temporal) != 0) gap.Reasons.Add(GapReason.TD);
            if ((t.Reasons & GapReasonFlags.Category) != 0) gap.Reasons.Add(GapReason.CD);
            if ((t.Reasons & GapReasonFlags.Rank) != 0) gap.Reasons.Add(GapReason.RANK);
            update.Gaps.Add(gap);
        }
        return update;
    }

    private SequenceClick ToSequenceClick(ClickEvent click)
    {
        var category = categories.Resolve(click.ItemId, click.Context);
        return new SequenceClick(click.UserId, click.EventId, click.ItemId, click.TsMs, category, options.DomainOf(category, click.Context));
    }

    private PartitionState NewState()
    {
        var model = new SwingCooccurrenceModel(modelOptions);
        var detector = new SequenceDetector(detectorOptions, model);
        if (options.SharedThresholds)
        {
            _sharedThresholds ??= new SharedTemporalThresholds(detectorOptions,
                _db is null ? new InMemoryGapSketchStore(detectorOptions) : new PostgresGapSketchStore(_db, Group, detectorOptions), options.ThresholdEpochMs);
            detector.SharedThresholds = _sharedThresholds;
        }
        return new PartitionState(detector, model);
    }

    private PostgresGlobalModelStore GlobalModels => _globalModels ??= new PostgresGlobalModelStore(
        _db ?? throw new InvalidOperationException("Sequence:Processor:ModelSource=Global needs PostgreSQL."), Group);

    /// <summary>The latest global model version (trained now if none exists yet); starts the refresh loop.</summary>
    private (long Version, SwingCooccurrenceModel Model, byte[] Bytes) LatestGlobalModel()
    {
        _globalModelLoop ??= Task.Run(() => RefreshGlobalModelLoopAsync(_stopping.Token));
        var latest = GlobalModels.LatestVersionAsync(CancellationToken.None).GetAwaiter().GetResult();
        if (latest == 0)
        {
            latest = GlobalModels.TrainIfDueAsync(modelOptions, options.GlobalModelRefreshMs, CancellationToken.None).GetAwaiter().GetResult()
                ?? GlobalModels.LatestVersionAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        return GlobalModel(latest);
    }

    private (long Version, SwingCooccurrenceModel Model, byte[] Bytes) GlobalModel(long version, byte[]? bytes = null)
    {
        if (_globalModel is { } loaded && loaded.Version == version) return loaded;
        bytes ??= GlobalModels.LoadAsync(version, CancellationToken.None).GetAwaiter().GetResult();
        var model = new SwingCooccurrenceModel(modelOptions);
        model.RestoreSnapshot(new MemoryStream(bytes, writable: false));
        _globalModel = (version, model, bytes);
        StreamingMetrics.ReportModelVersion(Name, "swing-global", version);
        return _globalModel.Value;
    }

    /// <summary>
    /// Puts a global model version into a partition: a shared read-only instance, or a private copy when partitions
    /// also learn online.
    /// </summary>
    private void UseGlobalModel(PartitionState state, (long Version, SwingCooccurrenceModel Model, byte[] Bytes) global)
    {
        var model = global.Model;
        if (detectorOptions.LearnOnline)
        {
            model = new SwingCooccurrenceModel(modelOptions);
            model.RestoreSnapshot(new MemoryStream(global.Bytes, writable: false));
        }
        state.Model = model;
        state.ModelVersion = global.Version;
        state.Detector.ReplaceModel(model);
    }

    /// <summary>
    /// Moves the batch's partitions to a newer global model version, and checkpoints them at once: every output is then
    /// produced by a state a restart would restore (same offset, same model version).
    /// </summary>
    private async Task SwapGlobalModelAsync(IReadOnlyList<int> partitions, CancellationToken ct)
    {
        if (options.ModelSource != SequenceModelSource.Global || _pendingGlobalModel is not { } pending) return;
        var swapped = new List<int>();
        foreach (var p in partitions)
        {
            var state = _partitions[p];
            if (state.ModelVersion >= pending.Item1) continue;
            UseGlobalModel(state, GlobalModel(pending.Item1, pending.Item2));
            state.Dirty = true;
            swapped.Add(p);
        }
        if (swapped.Count == 0) return;
        logger.LogInformation("sequence: partitions {Partitions} now use global model version {Version}", swapped, pending.Item1);
        await Checkpoint(swapped, force: true, ct);
    }

    private async Task RefreshGlobalModelLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.GlobalModelCheckMs, ct);
                if (await GlobalModels.TrainIfDueAsync(modelOptions, options.GlobalModelRefreshMs, ct) is { } trained)
                    logger.LogInformation("sequence: trained global model version {Version}", trained);
                var latest = await GlobalModels.LatestVersionAsync(ct);
                if (latest > (_pendingGlobalModel?.Item1 ?? 0) && latest > (_globalModel?.Version ?? 0))
                    _pendingGlobalModel = Tuple.Create(latest, await GlobalModels.LoadAsync(latest, ct));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "sequence: global model refresh failed; partitions keep their current version");
            }
        }
    }

    private async Task Checkpoint(IReadOnlyList<int> partitions, bool force, CancellationToken ct)
    {
        // Never the state of a batch whose outputs are not delivered.
        var undelivered = _decided is { Delivered: false } d ? d.Partitions : [];
        var due = partitions.Where(p => !undelivered.Contains(p)).Select(p => (Partition: p, State: _partitions[p]))
            .Where(x => x.State.Dirty && (force || x.State.SinceCheckpoint.ElapsedMilliseconds >= options.CheckpointIntervalMs))
            .ToList();
        if (due.Count == 0) return;
        var rows = due.Select(x => new SequenceCheckpoint(Contracts.Topics.Clicks, x.Partition, x.State.NextOffset, Snapshot(x.State))).ToList();
        await checkpoints.SaveAsync(Group, rows, ct);
        foreach (var (_, state) in due)
        {
            state.Dirty = false;
            state.SinceCheckpoint.Restart();
        }
    }

    private byte[] Snapshot(PartitionState state)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        if (state.ModelVersion > 0)
        {
            // A global model version: the reference suffices unless the partition also learned online.
            writer.Write(-1L);
            writer.Write(state.ModelVersion);
            writer.Write(detectorOptions.LearnOnline);
        }
        if (state.ModelVersion == 0 || detectorOptions.LearnOnline)
        {
            using var model = new MemoryStream();
            state.Model.WriteSnapshot(model);
            writer.Write(model.Length);
            writer.Write(model.GetBuffer(), 0, (int)model.Length);
        }
        state.Detector.WriteSnapshot(stream);
        return stream.ToArray();
    }

    private void Restore(PartitionState state, byte[] snapshot)
    {
        using var stream = new MemoryStream(snapshot, writable: false);
        using var reader = new BinaryReader(stream);
        var modelLength = reader.ReadInt64();
        if (modelLength == -1)
        {
            var version = reader.ReadInt64();
            var learned = reader.ReadBoolean();
            UseGlobalModel(state, GlobalModel(version));
            if (!learned)
            {
                state.Detector.RestoreSnapshot(stream);
                return;
            }
            modelLength = reader.ReadInt64();
            // Never restore into the shared read-only instance.
            if (!detectorOptions.LearnOnline) state.Model = new SwingCooccurrenceModel(modelOptions);
        }
        // The model first: restored users refer to its item indices.
        state.Model.RestoreSnapshot(new MemoryStream(snapshot, (int)stream.Position, (int)modelLength, writable: false));
        if (!ReferenceEquals(state.Detector.Model, state.Model)) state.Detector.ReplaceModel(state.Model);
        stream.Position += modelLength;
        state.Detector.RestoreSnapshot(stream);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        try { _globalModelLoop?.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { }
        _stopping.Dispose();
        _producer.Dispose(TimeSpan.FromSeconds(5));
    }
}
