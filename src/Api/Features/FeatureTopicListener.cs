using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Ingestors.Streaming.Operations;

namespace ReaSeq.Api.Features;

/// <summary>
/// Keeps this instance's feature cache fresh: tails reaseq.sequence-gaps, reaseq.augmented-sequences and
/// reaseq.item-knowledge (every partition, from the end) and invalidates the users and items they announce; item
/// knowledge also updates the similarity index. A record that cannot be decoded is logged and counted, not
/// dead-lettered: the consumer-group job that stores these topics (<see cref="FeatureMaterializer"/>) does that once
/// for the deployment, where every replica here would repeat it.
/// </summary>
public sealed class FeatureTopicListener(IKafkaClientSupplier kafka, FeatureCache cache, FeatureStore store, SimilarityIndex similar,
    AvroSerde<SequenceUpdate> sequenceSerde, AvroSerde<AugmentedSequence> augmentedSerde, AvroSerde<ItemKnowledge> knowledgeSerde,
    ApiMetrics metrics, ILogger<FeatureTopicListener> logger) : BackgroundService
{
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once every partition is assigned: records published afterwards will be seen.</summary>
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
                consumer = TopicTail.Open(kafka, "reaseq-api-features", [Topics.SequenceGaps, Topics.AugmentedSequences, Topics.ItemKnowledge], fromBeginning: false);
            }
            catch (Exception e) when (e is KafkaException or InvalidOperationException)
            {
                logger.LogWarning("api: cannot tail the feature topics yet ({Message}); retrying", e.Message);
                await Task.Delay(1_000, ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
        if (consumer is null) return;
        using (consumer)
        {
            _listening.TrySetResult();
            // Vectors committed before the tail started come from PostgreSQL; later ones from the topic.
            var loading = LoadIndexAsync(ct);
            while (!ct.IsCancellationRequested)
            {
                ConsumeResult<byte[]?, byte[]?>? result;
                try
                {
                    result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                }
                catch (ConsumeException e)
                {
                    logger.LogWarning("api: feature topic consume error: {Reason}", e.Error.Reason);
                    continue;
                }
                if (result is null || result.IsPartitionEOF) continue;
                await ApplyAsync(result, ct);
            }
            consumer.Close();
            await loading;
        }
    }

    private async Task LoadIndexAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await similar.LoadAsync(store, ct);
                return;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or ArgumentException)
            {
                logger.LogWarning("api: loading item vectors failed ({Message}); retrying", e.Message);
                await Task.Delay(2_000, ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Applies one feature record to the cache (public for the tests that drive it without a broker).</summary>
    public async Task ApplyAsync(ConsumeResult<byte[]?, byte[]?> result, CancellationToken ct)
    {
        try
        {
            switch (result.Topic)
            {
                case Topics.SequenceGaps:
                    {
                        var update = sequenceSerde.Deserialize(result.Message.Value);
                        cache.Users.Invalidate(update.UserId, update.SequenceVersion);
                        RecordFreshness(result);
                        break;
                    }
                case Topics.AugmentedSequences:
                    {
                        var augmented = augmentedSerde.Deserialize(result.Message.Value);
                        cache.Users.Invalidate(augmented.UserId, augmented.SequenceVersion);
                        RecordFreshness(result);
                        break;
                    }
                case Topics.ItemKnowledge:
                    {
                        var knowledge = knowledgeSerde.Deserialize(result.Message.Value);
                        cache.Items.Invalidate(knowledge.ItemId, knowledge.TsMs);
                        if (knowledge.Vector.Count > 0) await similar.UpsertAsync(knowledge.ItemId, [.. knowledge.Vector], knowledge.Category, ct);
                        break;
                    }
                default:
                    return;
            }
            metrics.Invalidations.Add(1, new KeyValuePair<string, object?>("topic", result.Topic));
        }
        catch (ContractException e)
        {
            metrics.BadFeatureRecords.Add(1, new KeyValuePair<string, object?>("topic", result.Topic));
            logger.LogWarning("api: undecodable record at {Topic}[{Partition}]@{Offset} skipped by the cache listener: {Message}",
                result.Topic, result.Partition.Value, result.Offset.Value, e.Message);
        }
    }

    /// <summary>
    /// Freshness, click → features seen by the API (DESIGN §6; stage api_features of reaseq_freshness_seconds): the
    /// cache entry is dropped now, so the next request reads the features that include the click. Measured from the
    /// click's entry time the sequence role carries on its update (<see cref="StreamingMetrics.EnteredAtHeader"/>);
    /// records without it (older producers, replays) are not observed.
    /// </summary>
    private static void RecordFreshness(ConsumeResult<byte[]?, byte[]?> result) =>
        StreamingMetrics.RecordFreshness("api_features", StreamingMetrics.EnteredAt(result.Message.Headers), DateTimeOffset.UtcNow);
}
