using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Ingestors.Streaming.Operations;
using ReaSeq.Models.Dllm;
using ReaSeq.Models.Training;

namespace ReaSeq.Processors.Dllm;

/// <summary>
/// reaseq.sequence-gaps → reaseq.augmented-sequences (paper §3.2.3, consumer group "{prefix}.dllm"). Each
/// SequenceUpdate's window is joined with the item vectors, the tiny LLaDA runs over it with a [FILL] before every
/// item that follows a detected gap, and the final hidden state at each [FILL] (projected to the item-vector space)
/// is published with the k nearest real items from the vector store.
/// <para>
/// Exactly once in the platform's sense: an output is a function of (model version, input record, item vectors).
/// Every call to the model runs at a shape that depends only on the sequence's own length (see
/// <see cref="DllmOptions.MicroBatch"/>), and the model pads the row counts of its packed inference path (see
/// <see cref="LladaTiny.Fill"/>), so batching never changes a fill. Each partition's model version is
/// committed with its offsets; a newer version is taken only at a batch boundary and committed before its first
/// use; before a batch's outputs go out, its partitions are pinned to their versions up to the batch's end, so a
/// replay after a crash uses the version the possibly published outputs used and re-publishes identical records.
/// A batch's outputs and dead letters are delivered before its offsets commit; a failed delivery fails the batch,
/// which is retried with the very same outputs. The nearest items reflect the vector store when the record was
/// filled (a store that gained items since may name others on a replay).
/// </para>
/// </summary>
public sealed class DllmFiller(AvroSerde<SequenceUpdate> inputSerde, AvroSerde<AugmentedSequence> outputSerde, IKafkaClientSupplier kafka,
    DeadLetterPublisher deadLetters, DllmStore store, ItemVectors vectors, LladaTinyOptions modelOptions, DllmOptions options,
    KafkaOptions kafkaOptions, DllmMetrics metrics, ILogger<DllmFiller> logger) : IBatchHandler, IDisposable
{
    /// <summary>A batch whose outputs are decided but not yet durable; the loop retries exactly this batch.</summary>
    private sealed class DecidedBatch(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, List<Action<DeliveryTracker>> sends,
        List<PartitionOffset> offsets, int published, int fills, int deadLettered, List<Timestamp> entered)
    {
        public readonly IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> Batch = batch;
        public readonly List<Action<DeliveryTracker>> Sends = sends;
        public readonly List<PartitionOffset> Offsets = offsets;
        public readonly int Published = published;
        public readonly int Fills = fills;
        public readonly int DeadLettered = deadLettered;
        public readonly List<Timestamp> Entered = entered;
        public bool Delivered;
    }

    private readonly ContractProducer _producer = new(kafka, "reaseq-dllm");
    private readonly Dictionary<int, long> _partitionVersions = new();
    private readonly Dictionary<int, long> _pinnedUntil = new();
    private readonly Dictionary<long, LladaTiny> _models = new();
    private readonly object _gate = new();
    private DecidedBatch? _decided;
    private long _newest;
    private long _loaded;
    private long _lastCheckMs = long.MinValue;
    private long _noWaitUntilMs = long.MinValue;
    private long _consumed;
    private long _published;
    private long _fills;
    private long _deadLettered;

    public string Name => "dllm";

    public IReadOnlyList<string> Topics { get; } = [options.InputTopic];

    private string Group => $"{kafkaOptions.GroupPrefix}.{Name}";

    /// <summary>SequenceUpdates handled (any outcome), for progress and lag.</summary>
    public long Consumed => Interlocked.Read(ref _consumed);

    /// <summary>AugmentedSequences published.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Gap positions filled in the published AugmentedSequences.</summary>
    public long Fills => Interlocked.Read(ref _fills);

    public long DeadLettered => Interlocked.Read(ref _deadLettered);

    /// <summary>The newest model version this job has seen recorded (0: none).</summary>
    public long ModelVersion => Interlocked.Read(ref _newest);

    /// <summary>
    /// The newest model version whose checkpoint this job has loaded into memory (0: none yet). Readiness (issue 12 §4,
    /// "the model is loaded") reads this, not <see cref="ModelVersion"/>: a recorded version whose checkpoint cannot be
    /// read must not make the role ready.
    /// </summary>
    public long LoadedModelVersion => Interlocked.Read(ref _loaded);

    public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        var offsets = PgOffsets.LoadAsync(store.Database, Group, partitions.Select(p => (p.Topic, p.Partition.Value)).ToList(), CancellationToken.None)
            .GetAwaiter().GetResult();
        var versions = store.LoadPartitionModelsAsync(Group, options.InputTopic, CancellationToken.None).GetAwaiter().GetResult();
        RefreshNewestAsync(force: true, CancellationToken.None).GetAwaiter().GetResult();
        lock (_gate)
        {
            foreach (var tp in partitions)
            {
                // A partition resumes with the version its last outputs used; a new one starts at the newest.
                var known = versions.TryGetValue(tp.Partition.Value, out var v);
                _partitionVersions[tp.Partition.Value] = known ? v.Version : _newest;
                _pinnedUntil[tp.Partition.Value] = known ? v.PinnedUntil : 0;
            }
        }
        return offsets.ToDictionary(o => new TopicPartition(o.Topic, o.Partition), o => o.NextOffset);
    }

    public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions)
    {
        lock (_gate)
        {
            foreach (var tp in partitions)
            {
                _partitionVersions.Remove(tp.Partition.Value);
                _pinnedUntil.Remove(tp.Partition.Value);
            }
        }
        // A decided batch that is not durable is simply dropped: the next owner replays it from the committed offsets.
        if (_decided is { } decided && decided.Batch.Any(r => partitions.Any(p => p.Partition == r.Partition))) _decided = null;
    }

    public async Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken ct)
    {
        if (_decided is { } retried)
        {
            if (!ReferenceEquals(retried.Batch, batch))
                throw new InvalidOperationException("dllm: the previous batch's outputs are not durable; it must be retried before another batch is handled");
            await CompleteAsync(retried, ct);
            return;
        }

        var clock = Stopwatch.StartNew();
        await vectors.SyncAsync(force: false, ct);
        await SwapToNewestAsync(batch.GroupBy(r => r.Partition.Value).ToDictionary(g => g.Key, g => g.Min(r => r.Offset.Value)), ct);

        var sends = new List<Action<DeliveryTracker>>();
        var offsets = new Dictionary<(string, int), long>();
        var accepted = new List<(ConsumeResult<byte[]?, byte[]?> Source, GapWindow Window)>();
        int deadLettered = 0;
        void DeadLetter(ConsumeResult<byte[]?, byte[]?> source, string errorClass, string message, string reason)
        {
            deadLettered++;
            metrics.DeadLettered(reason);
            sends.Add(t => deadLetters.Publish(t, source, Name, errorClass, message));
        }

        foreach (var r in batch)
        {
            offsets[(r.Topic, r.Partition.Value)] = r.Offset.Value + 1;
            try
            {
                var value = r.Message.Value;
                if (value is not null && value.Length > kafkaOptions.MaxRecordBytes)
                    throw new ContractException(ErrorClasses.Validation, $"record is {value.Length} bytes, limit {kafkaOptions.MaxRecordBytes}");
                accepted.Add((r, GapWindow.From(inputSerde.Deserialize(value), options.MaxWindow, modelOptions.MaxLength)));
            }
            catch (ContractException e)
            {
                DeadLetter(r, e.ErrorClass, e.Message, e.Message.Contains("oversized", StringComparison.Ordinal) ? "oversized" :
                    e.Message.Contains("empty", StringComparison.Ordinal) ? "empty" : e.ErrorClass);
            }
        }

        // The item vector join (§3.2.2). An item the knowledge role has not reasoned about yet is not bad input: it gets a
        // short grace period, then enters the model as [MASK] and is named in the output's unknown_positions.
        var known = await JoinAsync(accepted.SelectMany(a => a.Window.Items).ToHashSet(StringComparer.Ordinal), ct);
        int unknownItems = accepted.Sum(a => a.Window.Items.Count(i => !known.ContainsKey(i)));
        if (unknownItems > 0) metrics.UnknownItems(unknownItems);

        var outputs = await FillAsync(accepted, known, ct);
        int fills = 0;
        foreach (var output in outputs)
        {
            fills += output.Filled.Count;
            var key = System.Text.Encoding.UTF8.GetBytes(output.UserId);
            var value = outputSerde.Serialize(output);
            sends.Add(t => _producer.ProduceRaw(options.OutputTopic, key, value, t));
        }
        metrics.BatchFilled(clock.Elapsed);
        // When each published output's click entered the platform, carried by the sequence role on its SequenceUpdate.
        var entered = accepted.Select(f => StreamingMetrics.EnteredAt(f.Source.Message.Headers)).ToList();
        _decided = new DecidedBatch(batch, sends, offsets.Select(o => new PartitionOffset(o.Key.Item1, o.Key.Item2, o.Value)).ToList(),
            outputs.Count, fills, deadLettered, entered);
        await CompleteAsync(_decided, ct);
    }

    /// <summary>Delivers a decided batch's outputs (again, after a failure), then commits its offsets.</summary>
    private async Task CompleteAsync(DecidedBatch decided, CancellationToken ct)
    {
        if (!decided.Delivered)
        {
            // Pin first: once any output is out, a replay of these records must use the same versions.
            Dictionary<int, (long, long)> pins;
            lock (_gate)
            {
                pins = decided.Offsets.Where(o => _partitionVersions.ContainsKey(o.Partition))
                    .ToDictionary(o => o.Partition, o => (_partitionVersions[o.Partition], o.NextOffset));
            }
            await store.PinAsync(Group, options.InputTopic, pins, ct);
            lock (_gate)
            {
                foreach (var (p, (_, until)) in pins) _pinnedUntil[p] = Math.Max(_pinnedUntil.GetValueOrDefault(p), until);
            }
            var deliveries = new DeliveryTracker();
            foreach (var send in decided.Sends) send(deliveries);
            await deliveries.WaitAsync(ct);
            decided.Delivered = true;
            // Freshness (issue 12 §3, DESIGN §6): click entering the platform → its AugmentedSequence acknowledged by the
            // broker, one observation per output, from the oldest click the SequenceUpdate newly reflected. Inputs
            // without the sequence role's header (another producer) are not observed rather than timed from the wrong event.
            var now = DateTimeOffset.UtcNow;
            foreach (var enteredAt in decided.Entered) StreamingMetrics.RecordFreshness("augmented_sequence", enteredAt, now);
        }
        Dictionary<int, long> versions;
        lock (_gate) versions = decided.Offsets.Where(o => _partitionVersions.ContainsKey(o.Partition)).ToDictionary(o => o.Partition, o => _partitionVersions[o.Partition]);
        await store.CommitAsync(Group, options.InputTopic, versions, decided.Offsets, ct);
        _decided = null;
        Interlocked.Add(ref _published, decided.Published);
        Interlocked.Add(ref _fills, decided.Fills);
        Interlocked.Add(ref _deadLettered, decided.DeadLettered);
        Interlocked.Add(ref _consumed, decided.Batch.Count);
        metrics.Published(decided.Published, decided.Fills);
    }

    /// <summary>
    /// The vectors of <paramref name="items"/>. Missing ones are waited for up to <see cref="DllmOptions.UnknownItemWaitMs"/>:
    /// that covers the race between an item's first clicks and its knowledge. When a whole wait found none of them, the
    /// knowledge role is behind by more than the grace period, and waiting on every batch would only stall the
    /// partitions; the next batches then do not wait until the grace period has passed again.
    /// </summary>
    private async Task<Dictionary<string, float[]>> JoinAsync(HashSet<string> items, CancellationToken ct)
    {
        var known = await vectors.GetAsync(items, ct);
        if (known.Count == items.Count || Environment.TickCount64 < _noWaitUntilMs) return known;
        int before = known.Count;
        var deadline = Stopwatch.StartNew();
        while (known.Count < items.Count && deadline.ElapsedMilliseconds < options.UnknownItemWaitMs)
        {
            await Task.Delay(250, ct);
            await vectors.SyncAsync(force: true, ct);
            foreach (var (id, vector) in await vectors.GetAsync(items.Where(i => !known.ContainsKey(i)), ct)) known[id] = vector;
        }
        if (known.Count == before) _noWaitUntilMs = Environment.TickCount64 + options.UnknownItemWaitMs;
        return known;
    }

    /// <summary>
    /// Runs the model over the windows, grouped by the model version of their partition and by the padded length of
    /// their own size; every model call has <see cref="DllmOptions.MicroBatch"/> rows. Returns the outputs in input order.
    /// </summary>
    private async Task<List<AugmentedSequence>> FillAsync(List<(ConsumeResult<byte[]?, byte[]?> Source, GapWindow Window)> windows,
        Dictionary<string, float[]> known, CancellationToken ct)
    {
        var outputs = new AugmentedSequence[windows.Count];
        var fillVectors = new List<(int Output, int Position, float[] Vector)>();
        var pending = new List<(int Index, long Version, GapWindow Window)>();
        for (int i = 0; i < windows.Count; i++)
        {
            var window = windows[i].Window;
            long version;
            lock (_gate) version = _partitionVersions[windows[i].Source.Partition.Value];
            outputs[i] = new AugmentedSequence
            {
                UserId = window.UserId,
                SequenceVersion = window.SequenceVersion,
                Observed = [.. window.Items],
                ModelVersion = DllmModelVersion.Label(version),
                TsMs = window.TsMs,
                UnknownPositions = [.. Enumerable.Range(0, window.Items.Count).Where(p => !known.ContainsKey(window.Items[p]))],
            };
            // With no item known the model would see nothing but [MASK]s: such a window is published without fills.
            if (window.Gaps.Count > 0 && outputs[i].UnknownPositions.Count < window.Items.Count) pending.Add((i, version, window));
        }

        foreach (var group in pending.GroupBy(p => (p.Version, Length: DllmBatch.Bucket(p.Window.TokenCount, modelOptions.MaxLength))))
        {
            var model = await ModelAsync(group.Key.Version, ct);
            foreach (var chunk in group.Chunk(options.MicroBatch))
            {
                var chunkWindows = chunk.Select(c => c.Window).ToList();
                var (batch, fillTokens) = DllmBatch.Build(chunkWindows, id => known.GetValueOrDefault(id), model.Options.ItemVectorDim, options.MicroBatch, group.Key.Length, model.Device);
                // libtorch takes its thread count per thread, and this runs on whichever thread the awaits left it on.
                if (options.CpuThreads > 0) TorchDevice.UseCpuThreadsOnThisThread(options.CpuThreads);
                using (batch)
                using (var result = model.Fill(batch))
                {
                    var flat = result.Vectors.cpu().data<float>().ToArray();
                    var rows = result.Sequences.cpu().data<long>().ToArray();
                    var tokens = result.Positions.cpu().data<long>().ToArray();
                    int dim = (int)result.Vectors.shape[1];
                    for (int f = 0; f < rows.Length; f++)
                    {
                        int row = (int)rows[f];
                        if (row >= chunk.Length) continue; // padding rows have no gaps; never reached
                        int gap = Array.IndexOf(fillTokens[row], (int)tokens[f]);
                        fillVectors.Add((chunk[row].Index, chunk[row].Window.Gaps[gap], flat.AsSpan(f * dim, dim).ToArray()));
                    }
                }
            }
        }

        // §3.2.3: the filled states are searched among the real items' vectors.
        var hits = options.Nearest > 0 && fillVectors.Count > 0
            ? await vectors.Store.SearchBatchAsync(fillVectors.Select(f => new VectorQuery(f.Vector, options.Nearest)).ToList(), ct)
            : null;
        for (int f = 0; f < fillVectors.Count; f++)
        {
            var (output, position, vector) = fillVectors[f];
            outputs[output].Filled.Add(new FilledPosition
            {
                Position = position,
                Vector = [.. vector],
                Nearest = hits is null ? [] : [.. hits[f].Select(h => new NearestItem { ItemId = h.Id, Score = h.Score })],
            });
        }
        foreach (var output in outputs) output.Filled.Sort((a, b) => a.Position.CompareTo(b.Position));
        return [.. outputs];
    }

    /// <summary>The model of a version, loaded once; versions no partition uses any more are released.</summary>
    private async Task<LladaTiny> ModelAsync(long version, CancellationToken ct)
    {
        if (_models.TryGetValue(version, out var model)) return model;
        var checkpoint = await store.LoadCheckpointAsync(version, ct);
        model = LladaTiny.Load(new MemoryStream(checkpoint, writable: false), options.Device);
        model.SetTraining(false);
        _models[version] = model;
        if (version > Interlocked.Read(ref _loaded)) Interlocked.Exchange(ref _loaded, version);
        HashSet<long> inUse;
        lock (_gate) inUse = [.. _partitionVersions.Values];
        foreach (var stale in _models.Keys.Where(v => v != version && !inUse.Contains(v)).ToList())
        {
            _models[stale].Dispose();
            _models.Remove(stale);
        }
        return model;
    }

    private async Task RefreshNewestAsync(bool force, CancellationToken ct)
    {
        long now = Environment.TickCount64;
        if (!force && now - _lastCheckMs < options.ModelCheckMs) return;
        _lastCheckMs = now;
        if (await store.LatestAsync(ct) is not { } latest || latest.Version <= Interlocked.Read(ref _newest)) return;
        metrics.Seen(latest);
        Interlocked.Exchange(ref _newest, latest.Version);
        metrics.InUse(latest.Version);
        logger.LogInformation("dllm: model version {Version} is available", latest.Name);
    }

    /// <summary>
    /// Hot-load (§3.2): moves the batch's partitions to the newest version and commits that choice (offsets
    /// unchanged) before any record is filled with it. A partition whose batch starts below its pinned offset is
    /// replaying records that may already be out with its current version; it moves on a later batch.
    /// </summary>
    private async Task SwapToNewestAsync(IReadOnlyDictionary<int, long> firstOffsets, CancellationToken ct)
    {
        await RefreshNewestAsync(force: false, ct);
        long newest = Interlocked.Read(ref _newest);
        Dictionary<int, long> swapped;
        lock (_gate)
        {
            swapped = firstOffsets.Where(p => _partitionVersions.TryGetValue(p.Key, out var v) && v < newest && p.Value >= _pinnedUntil.GetValueOrDefault(p.Key))
                .ToDictionary(p => p.Key, _ => newest);
        }
        if (swapped.Count == 0) return;
        await ModelAsync(newest, ct);
        await store.CommitAsync(Group, options.InputTopic, swapped, [], ct);
        lock (_gate)
        {
            foreach (var p in swapped.Keys) _partitionVersions[p] = newest;
        }
        logger.LogInformation("dllm: partitions {Partitions} now fill with {Version}", swapped.Keys, DllmModelVersion.Label(newest));
    }

    /// <summary>
    /// Waits until a first model version exists and loads it (the filling job starts consuming only then). Loading it
    /// here rather than at the first batch makes readiness mean what it says: the model is in memory.
    /// </summary>
    public async Task WaitForModelAsync(CancellationToken ct)
    {
        bool logged = false;
        while (true)
        {
            try
            {
                await RefreshNewestAsync(force: true, ct);
                if (ModelVersion > 0)
                {
                    await ModelAsync(ModelVersion, ct);
                    return;
                }
            }
            catch (Exception e) when (e is InvalidDataException or Npgsql.NpgsqlException)
            {
                // An unreadable checkpoint or PostgreSQL away: keep waiting (and not ready) instead of ending the job.
                logger.LogWarning("dllm: model version {Version} not loaded yet ({Reason}); retrying", DllmModelVersion.Label(ModelVersion), e.Message);
            }
            if (!logged)
            {
                logger.LogInformation("dllm: no model version yet; filling starts once the trainer has recorded one");
                logged = true;
            }
            await Task.Delay(Math.Min(options.ModelCheckMs, 1_000), ct);
        }
    }

    public void Dispose()
    {
        _producer.Dispose(TimeSpan.FromSeconds(5));
        foreach (var model in _models.Values) model.Dispose();
        _models.Clear();
    }
}
