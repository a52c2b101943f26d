using System.Globalization;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Models.Representation;
using ReaSeq.Models.SemanticIds;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// The knowledge role's model trainer, one per deployment (issue 8 D14): the process holding the trainer's PostgreSQL
/// advisory lock leads; every other process only follows the versions the leader records in PostgreSQL. The leader
/// (1) retrains the IUI adapter (paper §4.1.1) on users' co-occurring clicks on a schedule when the switch is on,
/// (2) re-derives every stored item whose vector or semantic id is outdated (re-adapting its base vector, assigning the
/// current ids) and re-publishes its ItemKnowledge, (3) trains the RQ-VAE tokenizer (Appendix C) once enough vectors
/// exist, again every <see cref="SemanticIdTrainingOptions.RetrainEveryItems"/> new items and whenever the adapter
/// changed, then re-publishes again. Training runs on its own thread, never on the consumer's.
/// </summary>
public sealed class SemanticIdTrainer(
    PostgresKnowledgeStore store,
    SemanticIdModelHolder holder,
    IuiAdapterHolder adapter,
    IVectorStore vectors,
    KnowledgeOutputGate gate,
    KnowledgeProcessorStats stats,
    KnowledgeMetrics metrics,
    IKafkaClientSupplier kafka,
    AvroSerde<ItemKnowledge> serde,
    NpgsqlDataSource db,
    SemanticIdTrainingOptions options,
    IuiRoleOptions iuiOptions,
    KnowledgeProcessorOptions processorOptions,
    ILogger<SemanticIdTrainer> logger) : BackgroundService
{
    private readonly ContractProducer _producer = new(kafka, "reaseq-knowledge-ids");
    private readonly PostgresLeaderLease _lease = new(db, PostgresLeaderLease.KnowledgeTrainerKey);
    private readonly SemaphoreSlim _round = new(1, 1);

    /// <summary>RQ-VAE models trained by this instance.</summary>
    public int Trainings { get; private set; }

    /// <summary>IUI adapters trained by this instance.</summary>
    public int AdapterTrainings { get; private set; }

    /// <summary>Whether this process led the last round.</summary>
    public bool IsLeader { get; private set; }

    /// <summary>Quality of the current model on the items it was trained on, null before this instance trained one.</summary>
    public SemanticIdQualityReport? LastReport { get; private set; }

    /// <summary>Collision rate of the full ids stored for the items (with the de-duplication level), after the last sweep.</summary>
    public double? PublishedCollisionRate { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The processor keeps working with the previous models (or none); the next round tries again.
                logger.LogError(e, "knowledge: model training, following or re-publishing failed");
            }
            try { await Task.Delay(options.CheckIntervalMs, stoppingToken); } catch (OperationCanceledException) { break; }
        }
        await _lease.ReleaseAsync();
    }

    /// <summary>
    /// One round: follow the recorded models; as the leader, train what is due and re-publish outdated items.
    /// Returns whether a model (RQ-VAE or adapter) was trained.
    /// </summary>
    public async Task<bool> RunOnceAsync(CancellationToken ct)
    {
        // The background loop and an explicit caller (a replay's summary) may both ask; one round at a time.
        await _round.WaitAsync(ct);
        try { return await RoundAsync(ct); }
        finally { _round.Release(); }
    }

    private async Task<bool> RoundAsync(CancellationToken ct)
    {
        await holder.SyncAsync(ct);
        await adapter.SyncAsync(ct);
        IsLeader = await _lease.TryAcquireAsync(ct);
        if (!IsLeader)
        {
            metrics.SemanticIdQuality(holder.Pointer, PublishedCollisionRate);
            return false;
        }

        bool trained = false;
        if (adapter.Enabled && await AdapterDueAsync(ct) && await TrainAdapterAsync(ct) is not null) trained = true;
        await RepublishOutdatedAsync(ct);
        if (options.Enabled && await SemanticIdsDueAsync(ct))
        {
            await TrainAsync(ct);
            trained = true;
            await RepublishOutdatedAsync(ct);
        }
        if (holder.Version.Length > 0) PublishedCollisionRate = await PublishedIdCollisionRateAsync(ct);
        metrics.SemanticIdQuality(holder.Pointer, PublishedCollisionRate);
        return trained;
    }

    private async Task<bool> SemanticIdsDueAsync(CancellationToken ct)
    {
        long count = await store.CountAsync(ct);
        var pointer = holder.Pointer;
        if (pointer is null) return count >= options.MinItemsForTraining;
        // A model trained on other vectors (before the adapter changed) tokenizes a different space.
        return count - pointer.TrainedOnItems >= options.RetrainEveryItems
               || (pointer.AdapterVersion != adapter.DesiredVersion && count >= options.MinItemsForTraining);
    }

    private async Task<bool> AdapterDueAsync(CancellationToken ct)
    {
        var (clicks, _) = await store.ClickStatsAsync(ct);
        var pointer = adapter.Pointer;
        if (pointer is null) return clicks >= iuiOptions.MinNewClicks;
        return DateTimeOffset.UtcNow - pointer.TrainedAt >= TimeSpan.FromMilliseconds(iuiOptions.RetrainIntervalMs)
               && Math.Abs(clicks - pointer.TrainedOnClicks) >= iuiOptions.MinNewClicks;
    }

    /// <summary>
    /// Trains a new IUI adapter on pairs of different items at most Window clicks apart in each user's retained clicks
    /// (user_clicks, the ingest role's) of the training period, over the items' base vectors, and makes it the
    /// deployment's current one. Returns its record, or null when the clicks give fewer than two usable pairs.
    /// </summary>
    public async Task<IuiAdapterPointer?> TrainAdapterAsync(CancellationToken ct)
    {
        var (ids, bases) = await store.LoadBaseVectorsAsync(ct);
        var index = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
        var (count, newest) = await store.ClickStatsAsync(ct);
        long from = iuiOptions.TrainingPeriodMs > 0 ? newest - iuiOptions.TrainingPeriodMs : long.MinValue;
        var clicks = await store.LoadClicksAsync(from, ct);
        var events = clicks.Where(c => index.ContainsKey(c.ItemId)).Select(c => new IuiEvent(c.UserId, index[c.ItemId], c.TsMs)).ToList();
        var adapterOptions = iuiOptions.ToAdapterOptions();
        var pairs = IuiPairs.Build(events, newest + 1, adapterOptions.Window);
        if (pairs.Count < 2)
        {
            logger.LogInformation("knowledge: IUI adapter not trained: {Pairs} pairs from {Clicks} clicks", pairs.Count, clicks.Count);
            return null;
        }
        logger.LogInformation("knowledge: training the IUI adapter on {Pairs} pairs from {Events} clicks over {Items} base vectors",
            pairs.Count, events.Count, bases.Count);
        double finalLoss = double.NaN;
        var model = await Task.Factory.StartNew(
            () => new IuiTrainer(adapterOptions).Train(bases, pairs, e => finalLoss = e.Loss), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var pointer = new IuiAdapterPointer(model.Version, count, pairs.Count, pairs.LatestEventTsMs, finalLoss, DateTimeOffset.UtcNow);
        try
        {
            await adapter.PublishAsync(model, pointer, ct);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        AdapterTrainings++;
        metrics.AdapterTrained();
        logger.LogInformation("knowledge: IUI adapter {Version} is current ({Pairs} pairs, final loss {Loss})", model.Version, pairs.Count,
            finalLoss.ToString("F4", CultureInfo.InvariantCulture));
        return pointer;
    }

    private async Task TrainAsync(CancellationToken ct)
    {
        var (ids, itemVectors) = await store.LoadVectorsAsync(ct);
        string adapterVersion = adapter.DesiredVersion;
        logger.LogInformation("knowledge: training semantic id model on {Count} item vectors ({Levels} levels × {Codebook} codes)",
            itemVectors.Count, options.Levels, options.CodebookSize);
        var (model, report) = await Task.Factory.StartNew(() =>
        {
            var trained = new RqVaeTrainer(options.ToRqVaeOptions()).Train(itemVectors, cancellationToken: ct);
            try { return (trained, trained.Evaluate(itemVectors)); }
            catch { trained.Dispose(); throw; }
        }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            await holder.PublishAsync(model, new SemanticIdModelPointer(model.Version, ids.Count, report.CollisionRate,
                report.CodebookUsagePerLevel.ToArray(), DateTimeOffset.UtcNow, adapterVersion), ct);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        LastReport = report;
        Trainings++;
        logger.LogInformation("knowledge: semantic id model {Version} is current: {Items} items, {Distinct} distinct RQ-VAE ids, collision rate {Collision} " +
                              "before the de-duplication level, codebook usage per level {Usage}, reconstruction MSE {Mse}",
            model.Version, report.Items, report.DistinctIds, report.CollisionRate.ToString("F4", CultureInfo.InvariantCulture),
            string.Join(" / ", report.CodebookUsagePerLevel.Select(u => u.ToString("P1", CultureInfo.InvariantCulture))), report.ReconstructionMse);
    }

    /// <summary>Fraction of stored items whose full semantic id (current version) is shared with another item.</summary>
    public async Task<double> PublishedIdCollisionRateAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select coalesce(sum(n) filter (where n > 1), 0)::float8 / greatest(sum(n), 1) from " +
            "(select count(*) as n from item_knowledge where semantic_id_version = $1 group by semantic_id) g");
        cmd.Parameters.AddWithValue(holder.Version);
        return Convert.ToDouble(await cmd.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Brings every stored item to the current models: re-adapts its vector from the base vector when the adapter
    /// changed (or reverts it when the switch is off), assigns the current semantic id, rewrites its vector-store point
    /// and re-publishes its ItemKnowledge. Returns how many items were re-published.
    /// </summary>
    public async Task<long> RepublishOutdatedAsync(CancellationToken ct)
    {
        long total = 0;
        string after = "";
        while (true)
        {
            // Rows are read inside the gate: the processor cannot rewrite them between read and publish.
            using (await gate.EnterAsync(ct))
            {
                string version = holder.Version;
                string adapterVersion = adapter.DesiredVersion;
                var rows = await store.LoadOutdatedAsync(version, adapterVersion, after, options.RepublishChunk, ct);
                if (rows.Count == 0) break;
                var (adapted, madeBy) = adapter.Adapt(rows.Select(r => r.BaseVector).ToList());
                var derived = new List<StoredKnowledge>(rows.Count);
                for (int i = 0; i < rows.Count; i++)
                {
                    var record = rows[i].Record;
                    record.Vector = [.. adapted[i]];
                    derived.Add(rows[i] with { AdapterVersion = madeBy });
                }
                var (codes, assignedBy) = await holder.AssignAsync(rows.Select(r => r.Record.ItemId).ToList(), adapted, ct);
                for (int i = 0; i < rows.Count; i++)
                {
                    rows[i].Record.SemanticId = [.. codes[i]];
                    rows[i].Record.SemanticIdVersion = assignedBy;
                }
                await vectors.UpsertAsync(rows.Select(r => KnowledgeProcessor.ToPoint(r.Record)).ToList(), ct);
                // ts_ms stays the item update's. The rows' new state is stored only once every record is delivered;
                // otherwise the round fails and the next one finds the same rows outdated and publishes them again.
                var deliveries = new DeliveryTracker();
                foreach (var row in rows)
                    _producer.ProduceRaw(processorOptions.OutputTopic, Encoding.UTF8.GetBytes(row.Record.ItemId), serde.Serialize(row.Record), deliveries);
                await deliveries.WaitAsync(ct);
                await store.UpdateDerivedAsync(derived, ct);
                total += rows.Count;
                after = rows[^1].Record.ItemId;
            }
        }
        if (total > 0)
        {
            stats.AddRepublished(total);
            logger.LogInformation("knowledge: re-published {Count} items with semantic ids of {Version} and vectors of adapter '{Adapter}'",
                total, holder.Version, adapter.DesiredVersion);
        }
        return total;
    }

    private int _disposed;

    public override void Dispose()
    {
        // Registered both as itself and as a hosted service: the container may dispose it twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        base.Dispose();
        _lease.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _producer.Dispose(TimeSpan.FromSeconds(5));
    }
}
