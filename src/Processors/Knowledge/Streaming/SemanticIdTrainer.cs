using System.Globalization;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Models.SemanticIds;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// Trains the RQ-VAE tokenizer (paper Appendix C) on the knowledge vectors once enough exist, and again every
/// <see cref="SemanticIdTrainingOptions.RetrainEveryItems"/> new items; makes each new model current and
/// re-publishes the ItemKnowledge of every item whose semantic id version is not the current one (the same
/// sweep also catches items processed before a model was loaded). Training runs on its own thread, never on
/// the consumer's. One trainer per deployment: instances with their own trainers would train different models.
/// </summary>
public sealed class SemanticIdTrainer(
    PostgresKnowledgeStore store,
    SemanticIdModelHolder holder,
    KnowledgeOutputGate gate,
    KnowledgeProcessorStats stats,
    IKafkaClientSupplier kafka,
    AvroSerde<ItemKnowledge> serde,
    SemanticIdTrainingOptions options,
    KnowledgeProcessorOptions processorOptions,
    ILogger<SemanticIdTrainer> logger) : BackgroundService
{
    private readonly ContractProducer _producer = new(kafka, "reaseq-knowledge-ids");

    /// <summary>Models trained by this instance.</summary>
    public int Trainings { get; private set; }

    /// <summary>Quality of the current model on the items it was trained on, null before the first training.</summary>
    public SemanticIdQualityReport? LastReport { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Enabled) return;
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
                // The processor keeps working with the previous model (or none); the next round tries again.
                logger.LogError(e, "knowledge: semantic id training or re-publishing failed");
            }
            try { await Task.Delay(options.CheckIntervalMs, stoppingToken); } catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>One round: train when due, then re-publish items with an outdated id. Returns whether a model was trained.</summary>
    public async Task<bool> RunOnceAsync(CancellationToken ct)
    {
        // The background loop and an explicit caller (a replay's summary) may both ask; one round at a time.
        await _round.WaitAsync(ct);
        try { return await RoundAsync(ct); }
        finally { _round.Release(); }
    }

    private readonly SemaphoreSlim _round = new(1, 1);

    private async Task<bool> RoundAsync(CancellationToken ct)
    {
        bool trained = false;
        long count = await store.CountAsync(ct);
        var pointer = holder.Pointer;
        bool due = pointer is null ? count >= options.MinItemsForTraining : count - pointer.TrainedOnItems >= options.RetrainEveryItems;
        if (due)
        {
            await TrainAsync(ct);
            trained = true;
        }
        if (holder.Version.Length > 0) await RepublishOutdatedAsync(ct);
        return trained;
    }

    private async Task TrainAsync(CancellationToken ct)
    {
        var (ids, vectors) = await store.LoadVectorsAsync(ct);
        logger.LogInformation("knowledge: training semantic id model on {Count} item vectors ({Levels} levels × {Codebook} codes)",
            vectors.Count, options.Levels, options.CodebookSize);
        var (model, report) = await Task.Factory.StartNew(() =>
        {
            var trained = new RqVaeTrainer(options.ToRqVaeOptions()).Train(vectors, cancellationToken: ct);
            try { return (trained, trained.Evaluate(vectors)); }
            catch { trained.Dispose(); throw; }
        }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        holder.Publish(model, new SemanticIdModelPointer(model.Version, ids.Count, report.CollisionRate,
            report.CodebookUsagePerLevel.ToArray(), DateTimeOffset.UtcNow));
        LastReport = report;
        Trainings++;
        logger.LogInformation("knowledge: semantic id model {Version} is current: {Items} items, {Distinct} distinct ids, collision rate {Collision}, " +
                              "codebook usage per level {Usage}, reconstruction MSE {Mse}",
            model.Version, report.Items, report.DistinctIds, report.CollisionRate.ToString("F4", CultureInfo.InvariantCulture),
            string.Join(" / ", report.CodebookUsagePerLevel.Select(u => u.ToString("P1", CultureInfo.InvariantCulture))), report.ReconstructionMse);
    }

    /// <summary>Assigns the current model's ids to every row that lacks them and re-publishes those items.</summary>
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
                var rows = await store.LoadOutdatedAsync(version, after, options.RepublishChunk, ct);
                if (rows.Count == 0) break;
                var (codes, assignedBy) = holder.Assign(rows.Select(r => r.Vector.ToArray()).ToList());
                for (int i = 0; i < rows.Count; i++)
                {
                    rows[i].SemanticId = [.. codes[i]];
                    rows[i].SemanticIdVersion = assignedBy;
                }
                // ts_ms stays the item update's: the record differs from the earlier one only in its semantic id.
                // The rows' new ids are stored only once every record is delivered; otherwise the round fails and the
                // next one finds the same rows outdated and publishes them again.
                var deliveries = new DeliveryTracker();
                foreach (var row in rows)
                    _producer.ProduceRaw(processorOptions.OutputTopic, Encoding.UTF8.GetBytes(row.ItemId), serde.Serialize(row), deliveries);
                await deliveries.WaitAsync(ct);
                await store.UpdateSemanticIdsAsync(rows, ct);
                total += rows.Count;
                after = rows[^1].ItemId;
            }
        }
        if (total > 0)
        {
            stats.AddRepublished(total);
            logger.LogInformation("knowledge: re-published {Count} items with semantic ids of {Version}", total, holder.Version);
        }
        return total;
    }

    private int _disposed;

    public override void Dispose()
    {
        // Registered both as itself and as a hosted service: the container may dispose it twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        base.Dispose();
        _producer.Dispose(TimeSpan.FromSeconds(5));
    }
}
