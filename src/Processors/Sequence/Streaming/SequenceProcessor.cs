using System.Diagnostics;
using CommunityToolkit.HighPerformance.Buffers;
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
/// <para>
/// Issue 8: a partition resumes only from the offset stored with its state (from the log's beginning when it has
/// none), and the consumer loop never commits a Kafka offset past the last durable checkpoint (B4). A batch whose
/// decisions fail half-way poisons its partitions: before anything else they are restored from the last checkpoint and
/// the records since are re-applied, so a retry never runs against memory a failed attempt changed (B9). Checkpoints
/// are incremental: the users a delivered batch changed are copied aside, and every interval those copies, the
/// partition's model, thresholds and statistics and the offset are written off the consumer thread in one
/// transaction; idle users already checkpointed are evicted and reloaded on their next click (D12). Every write is
/// fenced by the owner epoch claimed on assignment, and lost partitions are dropped without a checkpoint (B5).
/// </para>
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
        /// <summary>The next offset after the last decided batch.</summary>
        public long NextOffset;
        /// <summary>The next offset the last committed checkpoint covers (0: none).</summary>
        public long DurableOffset;
        /// <summary>This owner's claim on the partition (issue 8 B5).</summary>
        public long Epoch;
        /// <summary>When (Environment.TickCount64) this partition's next checkpoint is due.</summary>
        public long CheckpointDueMs;
        public bool Dirty;
        /// <summary>Users changed by delivered batches since the last checkpoint was taken (the live objects: a checkpoint
        /// is taken between batches, when memory is exactly the state at <see cref="NextOffset"/>).</summary>
        public Dictionary<string, UserSequence> Pending = new(StringComparer.Ordinal);
        /// <summary>Users of the checkpoint being written (not durable yet: never evicted).</summary>
        public Dictionary<string, UserSequence>? Writing;
        /// <summary>Delivered records since <see cref="DurableOffset"/>: re-applied after a restore (issue 8 B9).</summary>
        public readonly RecordTail Tail = new(Contracts.Topics.Clicks);
    }

    /// <summary>
    /// A batch whose decisions are made (the detectors moved on) but not yet durable: its outputs, as re-sendable
    /// actions, until all are delivered; then only its checkpoint is due. The loop retries exactly this batch.
    /// </summary>
    private sealed class DecidedBatch(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, List<Action<DeliveryTracker>> sends, HashSet<int> partitions, int updates,
                                      List<(int Partition, UserSequence User)> changed, List<Timestamp> accepted)
    {
        /// <summary>When each accepted click entered the platform: its freshness is measured once its update is delivered.</summary>
        public readonly List<Timestamp> Accepted = accepted;
        public readonly IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> Batch = batch;
        public readonly List<Action<DeliveryTracker>> Sends = sends;
        public readonly HashSet<int> Partitions = partitions;
        public readonly int Updates = updates;
        public readonly List<(int Partition, UserSequence User)> Changed = changed;
        public bool Delivered;
        public bool Applied;
    }

    /// <summary>A checkpoint being written off the consumer thread.</summary>
    private sealed record Write(Task Task, IReadOnlyList<(int Partition, PartitionState State, long Offset)> Rows);

    private static readonly TimeSpan EvictionScanInterval = TimeSpan.FromSeconds(1);

    private readonly Dictionary<int, PartitionState> _partitions = new();
    private readonly ContractProducer _producer = new(kafka, "reaseq-sequence");
    private readonly StringPool _strings = new(1 << 16);
    private readonly SequenceUpdateWriter _updateWriter = new(updateSerde.Header.ToArray());
    private DecidedBatch? _decided;
    private readonly object _gate = new();
    private long _published;
    private long _skippedInvalid;
    private long _consumed;
    private long _evicted;
    private long _reloaded;
    private readonly NpgsqlDataSource? _db = db ?? (checkpoints as PostgresSequenceCheckpointStore)?.Database;
    private SharedTemporalThresholds? _sharedThresholds;
    private PostgresGlobalModelStore? _globalModels;
    private (long Version, SwingCooccurrenceModel Model, byte[] Bytes)? _globalModel;
    private volatile Tuple<long, byte[]>? _pendingGlobalModel;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _globalModelLoop;
    private readonly HashSet<int> _poisoned = [];
    private readonly HashSet<int> _fenced = [];
    private Write? _writing;
    private bool _writeFailed;
    private readonly Stopwatch _sinceEvictionScan = Stopwatch.StartNew();

    public string Name => "sequence";

    public IReadOnlyList<string> Topics { get; } = [Contracts.Topics.Clicks];

    private string Group => $"{kafkaOptions.GroupPrefix}.{Name}";

    public long Published => Interlocked.Read(ref _published);

    /// <summary>Clicks rejected before the detector (undecodable, invalid, keyed by another user) and dead-lettered.</summary>
    public long SkippedInvalid => Interlocked.Read(ref _skippedInvalid);

    /// <summary>Click records handled (any outcome), for progress and lag.</summary>
    public long Consumed => Interlocked.Read(ref _consumed);

    /// <summary>Users evicted from memory (idle past Sequence:Processor:UserIdleTtlMs) and users reloaded from PostgreSQL.</summary>
    public (long Evicted, long Reloaded) UserMoves => (Interlocked.Read(ref _evicted), Interlocked.Read(ref _reloaded));

    /// <summary>Users held in memory over all owned partitions.</summary>
    public int UsersInMemory
    {
        get { lock (_gate) return _partitions.Values.Sum(p => p.Detector.UserCount); }
    }

    /// <summary>A fault injected after this many clicks of a batch were applied (tests of batch atomicity); null: none.</summary>
    internal Func<int, bool>? FailAfterApplying { get; set; }

    public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        var resume = new Dictionary<TopicPartition, long>();
        if (partitions.Count == 0) return resume;
        var epochs = checkpoints.ClaimAsync(Group, Contracts.Topics.Clicks, partitions.Select(p => p.Partition.Value).ToList(), CancellationToken.None).GetAwaiter().GetResult();
        var loaded = new List<(int Partition, PartitionState State)>();
        foreach (var tp in partitions)
        {
            var (state, stored) = LoadPartition(tp.Partition.Value);
            state.Epoch = epochs[tp.Partition.Value];
            // Only the offset stored with the state counts (issue 8 B4): a partition without a checkpoint starts at the
            // log's beginning, never at an offset Kafka has committed for state that was never made durable.
            resume[tp] = stored ? state.NextOffset : Offset.Beginning.Value;
            loaded.Add((tp.Partition.Value, state));
        }
        lock (_gate)
        {
            foreach (var (p, state) in loaded)
            {
                _partitions[p] = state;
                _fenced.Remove(p);
                _poisoned.Remove(p);
            }
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
        Drop(owned);
    }

    /// <summary>
    /// Lost, not revoked: another member may own these partitions already, so nothing of them is written any more (a write
    /// in flight is fenced by the new owner's epoch); their state is dropped (issue 8 B5).
    /// </summary>
    public void OnLost(IReadOnlyCollection<TopicPartition> partitions)
    {
        var lost = partitions.Select(p => p.Partition.Value).Where(_partitions.ContainsKey).ToList();
        logger.LogWarning("sequence: partitions {Partitions} lost; their state since the last checkpoint is dropped, not written", lost);
        Drop(lost);
    }

    private void Drop(List<int> partitions)
    {
        lock (_gate)
        {
            foreach (var p in partitions)
            {
                _partitions[p].Detector.Dispose();
                _partitions.Remove(p);
                _poisoned.Remove(p);
                _fenced.Remove(p);
            }
        }
        if (_decided is { } decided && decided.Partitions.Overlaps(partitions))
        {
            decided.Partitions.ExceptWith(partitions);
            if (decided.Partitions.Count == 0) _decided = null;
        }
    }

    public long? DurableOffset(TopicPartition partition)
    {
        lock (_gate) return _partitions.TryGetValue(partition.Partition.Value, out var state) ? state.DurableOffset : 0;
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
        await RestorePoisonedAsync(ct);
        Harvest();
        // A fenced partition belongs to another owner now: its records are theirs (the rebalance that tells us follows).
        var owned = _fenced.Count == 0 ? batch : batch.Where(r => !_fenced.Contains(r.Partition.Value)).ToList();
        _decided = await DecideAsync(owned, replay: false, ct);
        await CompleteAsync(_decided, ct);
        Interlocked.Add(ref _consumed, batch.Count - owned.Count);
    }

    /// <summary>
    /// Decodes, prepares (every read from PostgreSQL happens here, before any state changes) and applies records. When
    /// applying fails half-way the batch's partitions are poisoned: they are restored before the next attempt.
    /// </summary>
    private async Task<DecidedBatch> DecideAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, bool replay, CancellationToken ct)
    {
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
                if (!replay)
                {
                    Interlocked.Increment(ref _skippedInvalid);
                    sends.Add(t => deadLetters.Publish(t, r, Name, e));
                }
            }
            decoded.Add((r, click));
        }
        var partitions = decoded.Select(d => d.Source.Partition.Value).ToHashSet();
        // Only clicks without their own category need the catalog (issue 8 B8, F21).
        await categories.CatchUpAsync(decoded.Exists(d => d.Click is { } c && !c.Context.ContainsKey("category")), ct);
        if (!replay) await SwapGlobalModelAsync(partitions.ToList(), ct);
        await ReloadUsersAsync(decoded.Where(d => d.Click is not null).Select(d => (d.Source.Partition.Value, d.Click!.UserId)), ct);
        var clicks = decoded.Select(d => d.Click is { } c ? ToSequenceClick(c) : (SequenceClick?)null).ToList();
        if (_sharedThresholds is { } shared)
        {
            await shared.PrepareAsync(clicks.Where(c => c is not null).SelectMany(c => shared.Needed(c!.Value.Domain, c.Value.TimestampMs)),
                () => _partitions.Select(kv => (kv.Key, kv.Value.Detector)).OrderBy(p => p.Key), ct);
        }

        var changed = new Dictionary<(int Partition, string User), UserSequence>();
        var accepted = new List<Timestamp>();
        // Per changed user, its oldest click of the batch entering the platform: sent on with the update so that the
        // dllm role can measure freshness from the click (StreamingMetrics.EnteredAtHeader).
        var enteredAt = new Dictionary<(int Partition, string User), Timestamp>();
        try
        {
            for (var n = 0; n < decoded.Count; n++)
            {
                if (FailAfterApplying?.Invoke(n) == true) throw new InvalidOperationException($"injected fault after {n} clicks of the batch were applied");
                var (source, click) = decoded[n];
                var state = _partitions[source.Partition.Value];
                state.NextOffset = source.Offset.Value + 1;
                state.Dirty = true;
                if (click is null) continue;
                var result = state.Detector.Process(clicks[n]!.Value);
                if (result.IsAccepted)
                {
                    changed[(source.Partition.Value, click.UserId)] = result.Sequence!;
                    if (!replay) accepted.Add(source.Message.Timestamp);
                    enteredAt.TryAdd((source.Partition.Value, click.UserId), source.Message.Timestamp);
                }
                else if (result.ShouldDeadLetter && !replay)
                {
                    var errorClass = result.Status == ClickStatus.RejectedInvalid ? ErrorClasses.Validation : ErrorClasses.OutOfOrder;
                    var message = $"{result.Status}: {result.Detail}";
                    sends.Add(t => deadLetters.Publish(t, source, Name, errorClass, message));
                }
            }

            // Outputs first, then the checkpoint: a crash in between replays and re-publishes identical updates.
            if (!replay)
            {
                foreach (var ((partition, user), sequence) in changed)
                {
                    var key = System.Text.Encoding.UTF8.GetBytes(user);
                    var value = _updateWriter.Write(sequence, _partitions[partition].Detector.Options.Variant);
                    var entered = enteredAt.GetValueOrDefault((partition, user));
                    // Fresh headers on every send: a retried batch must not reuse headers the producer already holds.
                    sends.Add(t => _producer.ProduceRaw(options.OutputTopic, key, value, t, StreamingMetrics.EnteredAtHeaders(entered)));
                }
            }
            // The changed users join the next checkpoint once the batch is delivered. No copies: the checkpoint freezes the
            // users it writes, and the detector copies one only if a later click changes it during that write.
            foreach (var p in partitions) _partitions[p].Detector.TakeChangedUsers();
            var copies = changed.Select(kv => (kv.Key.Partition, kv.Value)).ToList();
            return new DecidedBatch(batch, sends, partitions, replay ? 0 : changed.Count, copies, accepted);
        }
        catch
        {
            // Memory now holds part of a batch that will be retried: never run the retry against it.
            lock (_gate) _poisoned.UnionWith(partitions);
            throw;
        }
    }

    /// <summary>Brings evicted users of the batch back from PostgreSQL (before anything changes, so a failure here changes nothing).</summary>
    private async Task ReloadUsersAsync(IEnumerable<(int Partition, string User)> users, CancellationToken ct)
    {
        var missing = users.Where(u => _partitions[u.Partition].Detector.GetUser(u.User) is null).Distinct().ToList();
        if (missing.Count == 0) return;
        var partitionOf = missing.GroupBy(m => m.User, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Partition, StringComparer.Ordinal);
        var rows = await checkpoints.LoadUsersAsync(Group, partitionOf.Keys.ToList(), ct);
        foreach (var row in rows)
        {
            // The user id is inside the snapshot; restore into a scratch detector-free read to find its partition.
            var id = UserIdOf(row);
            if (id is null || !partitionOf.TryGetValue(id, out var p)) continue;
            _partitions[p].Detector.RestoreUser(row);
            Interlocked.Increment(ref _reloaded);
        }
    }

    private static string? UserIdOf(byte[] snapshot)
    {
        // Layout of UserSequence.Write: header (magic, version), window size, dedup capacity, then the user id.
        using var reader = new BinaryReader(new MemoryStream(snapshot, writable: false), System.Text.Encoding.UTF8);
        reader.ReadBytes(4);
        reader.ReadInt32();
        reader.ReadInt32();
        reader.ReadInt32();
        return reader.ReadString();
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
        if (!decided.Applied)
        {
            Apply(decided);
            decided.Applied = true;
        }
        await Checkpoint(decided.Partitions.ToList(), force: false, ct);
        _decided = null;
        Interlocked.Add(ref _consumed, decided.Batch.Count);
        EvictIdleUsers();
    }

    /// <summary>A delivered batch's changed users join the next checkpoint; its records join the tail a restore re-applies.</summary>
    private void Apply(DecidedBatch decided)
    {
        foreach (var (p, user) in decided.Changed)
            if (_partitions.TryGetValue(p, out var state)) state.Pending[user.UserId] = user;
        foreach (var r in decided.Batch)
            if (decided.Partitions.Contains(r.Partition.Value)) _partitions[r.Partition.Value].Tail.Add(r);
    }

    /// <summary>Quiet partitions still get their due checkpoint, so a restart replays little; idle users leave memory.</summary>
    public async Task OnIdleAsync(CancellationToken cancellationToken)
    {
        await RestorePoisonedAsync(cancellationToken);
        await Checkpoint(_partitions.Keys.ToList(), force: false, cancellationToken);
        EvictIdleUsers();
    }

    /// <summary>
    /// Restores poisoned partitions (issue 8 B9): the state of their last committed checkpoint, then the delivered
    /// records since re-applied without sending anything (their outputs went out already and come out identical).
    /// </summary>
    private async Task RestorePoisonedAsync(CancellationToken ct)
    {
        if (_poisoned.Count == 0) return;
        await AwaitWriteAsync();
        foreach (var p in _poisoned.Order().ToList())
        {
            var old = _partitions[p];
            var (state, _) = LoadPartition(p);
            state.Epoch = old.Epoch;
            lock (_gate) _partitions[p] = state;
            old.Detector.Dispose();
            var tail = old.Tail.From(state.NextOffset, p);
            lock (_gate) _poisoned.Remove(p);
            if (tail.Count > 0)
            {
                var replayed = await DecideAsync(tail, replay: true, ct);
                Apply(replayed);
            }
            logger.LogWarning("sequence: partition {Partition} restored from its checkpoint at offset {Offset} and {Records} records re-applied after a failed batch",
                p, state.DurableOffset, tail.Count);
        }
    }

    /// <summary>A partition's state from its last checkpoint (users are loaded on demand); false when it has none.</summary>
    private (PartitionState State, bool Stored) LoadPartition(int partition)
    {
        var state = NewState();
        // Partitions assigned together would stay due together: every 5 s, all of them wrote their changed users at once,
        // a burst of PostgreSQL work that the clicks of that moment waited behind on two cores (the sequence benchmark's
        // periodic freshness stalls). Each partition's first checkpoint comes after the interval plus its own fraction of
        // it (the golden ratio spreads any number of partitions evenly; never sooner than the interval), and each keeps
        // its own period after that.
        state.CheckpointDueMs = Environment.TickCount64 + (long)(options.CheckpointIntervalMs * (1 + partition * 0.6180339887498949 % 1.0));
        var checkpoint = checkpoints.LoadAsync(Group, Contracts.Topics.Clicks, partition, CancellationToken.None).GetAwaiter().GetResult();
        if (checkpoint is null)
        {
            if (options.ModelSource == SequenceModelSource.Global) UseGlobalModel(state, LatestGlobalModel());
            return (state, false);
        }
        Restore(state, checkpoint.Snapshot);
        state.NextOffset = state.DurableOffset = checkpoint.NextOffset;
        // A checkpoint written before users had rows of their own holds them inline: they go to their rows next time.
        foreach (var user in state.Detector.Users) state.Pending[user.UserId] = user;
        logger.LogInformation("sequence: partition {Partition} resumes at offset {Offset}", partition, checkpoint.NextOffset);
        return (state, true);
    }

    private void EvictIdleUsers()
    {
        if (options.UserIdleTtlMs <= 0 || _sinceEvictionScan.Elapsed < EvictionScanInterval) return;
        _sinceEvictionScan.Restart();
        var idleSince = Environment.TickCount64 - options.UserIdleTtlMs;
        foreach (var (p, state) in _partitions)
        {
            if (_poisoned.Contains(p)) continue;
            var evicted = state.Detector.EvictUsers(u => u.LastTouchedMs < idleSince && !state.Pending.ContainsKey(u.UserId)
                                                         && state.Writing?.ContainsKey(u.UserId) != true);
            Interlocked.Add(ref _evicted, evicted);
        }
    }

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
        var category = categories.Resolve(click.ItemId, click.TsMs, click.Context);
        // A window keeps its clicks' strings for ~WindowSize clicks, long enough to reach the oldest generation: one shared
        // instance per item, category and domain (not one per click) keeps the collections that promote them short.
        return new SequenceClick(click.UserId, click.EventId, _strings.GetOrAdd(click.ItemId), click.TsMs,
            category is null ? null : _strings.GetOrAdd(category), _strings.GetOrAdd(options.DomainOf(category, click.Context)));
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

    /// <summary>
    /// Takes a checkpoint of the due partitions: on the consumer thread only the partition's model, thresholds and
    /// statistics are serialised and the pending user copies handed over; the users are serialised and everything is
    /// written (fenced, one transaction) on another thread. <paramref name="force"/> (revoke, close, model swap) and a
    /// previous failed write wait for the write, so its failure fails the caller (the loop retries, health reports it).
    /// </summary>
    private async Task Checkpoint(IReadOnlyList<int> partitions, bool force, CancellationToken ct)
    {
        Harvest();
        if (_writing is not null)
        {
            // One write at a time, in order; a quiet partition's checkpoint simply waits for the next call.
            if (!force) return;
            await AwaitWriteAsync();
        }
        // Never the state of a batch whose outputs are not delivered, nor memory a failed batch left half-applied.
        var undelivered = _decided is { Delivered: false } d ? d.Partitions : [];
        var due = partitions.Where(p => !undelivered.Contains(p) && !_poisoned.Contains(p) && !_fenced.Contains(p) && _partitions.ContainsKey(p))
            .Select(p => (Partition: p, State: _partitions[p]))
            .Where(x => x.State.Dirty && (force || _writeFailed || Environment.TickCount64 >= x.State.CheckpointDueMs))
            .ToList();
        if (due.Count == 0) return;
        var rows = new List<(int Partition, PartitionState State, long Offset)>();
        var snapshots = new List<(SequenceCheckpoint Checkpoint, Dictionary<string, UserSequence> Users)>();
        foreach (var (p, state) in due)
        {
            var users = state.Pending;
            // Frozen until the write is harvested: the serialisation below runs on another thread.
            foreach (var user in users.Values) user.Frozen = true;
            state.Pending = new(StringComparer.Ordinal);
            state.Writing = users;
            state.Dirty = false;
            state.CheckpointDueMs = Environment.TickCount64 + options.CheckpointIntervalMs;
            rows.Add((p, state, state.NextOffset));
            snapshots.Add((new SequenceCheckpoint(Contracts.Topics.Clicks, p, state.NextOffset, Snapshot(state)) { OwnerEpoch = state.Epoch }, users));
        }
        var group = Group;
        var task = Task.Run(async () =>
        {
            var withUsers = snapshots.Select(x => x.Checkpoint with
            {
                Users = x.Users.OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => KeyValuePair.Create(u.Key, u.Value.ToSnapshot())).ToList(),
            }).ToList();
            await checkpoints.SaveAsync(group, withUsers, CancellationToken.None);
        }, CancellationToken.None);
        _writing = new Write(task, rows);
        if (force || _writeFailed)
        {
            await AwaitWriteAsync();
            if (_writeFailed) throw new InvalidOperationException("sequence: checkpoint failed; the batch is retried and its state stays in memory until one succeeds");
        }
        _ = ct;
    }

    /// <summary>Waits for the checkpoint being written (its failure is recorded by <see cref="Harvest"/>, not thrown).</summary>
    private async Task AwaitWriteAsync()
    {
        if (_writing is not { } write) return;
        try { await write.Task; } catch (Exception) { /* observed in Harvest */ }
        Harvest();
    }

    /// <summary>
    /// Observes a finished checkpoint write on the consumer thread: success makes its offsets durable (and what they
    /// cover evictable); a failure hands its users back to the next checkpoint; a fenced write drops the partitions.
    /// </summary>
    private void Harvest()
    {
        if (_writing is not { Task.IsCompleted: true } write) return;
        _writing = null;
        var error = write.Task.Exception?.GetBaseException();
        foreach (var (p, state, offset) in write.Rows)
        {
            var written = state.Writing!;
            state.Writing = null;
            if (!_partitions.TryGetValue(p, out var current) || !ReferenceEquals(current, state)) continue;
            if (error is null)
            {
                lock (_gate) state.DurableOffset = offset;
                state.Tail.RemoveBefore(offset);
                // Users no click changed during the write are in memory still and may change in place again.
                foreach (var (id, user) in written)
                    if (ReferenceEquals(state.Detector.GetUser(id), user)) user.Frozen = false;
                continue;
            }
            foreach (var (id, user) in written) state.Pending.TryAdd(id, user);
            state.Dirty = true;
        }
        if (error is PartitionFencedException fenced)
        {
            // Another owner holds the partition now: our memory of it is stale, and anything we would write is rejected.
            logger.LogWarning("sequence: {Reason}; ignoring partitions {Partitions} until the rebalance catches up", fenced.Message, fenced.Partitions);
            lock (_gate) _fenced.UnionWith(fenced.Partitions);
            _writeFailed = false;
            return;
        }
        _writeFailed = error is not null;
        if (error is not null) logger.LogWarning(error, "sequence: checkpoint failed; its users are written with the next one");
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
        // Users have rows of their own (issue 8 D12): the partition's snapshot stays small however many users it holds.
        state.Detector.WriteSnapshot(stream, includeUsers: false);
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
        try { _writing?.Task.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { }
        _stopping.Cancel();
        try { _globalModelLoop?.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { }
        _stopping.Dispose();
        _producer.Dispose(TimeSpan.FromSeconds(5));
    }
}
