using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using ReaSeq.Ingestors.Streaming.Operations;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>
/// The one consumer loop every ingestor and processor runs: batch poll, manual offsets, cooperative-sticky
/// assignment, resume from the handler's stored offsets, commit on revoke, graceful close. In-flight work is
/// bounded: while the handler makes one batch durable, the loop fills (and the handler starts decoding) at most the
/// next one, then waits (backpressure). Batches are handed over strictly in order.
/// A failing batch is retried with backoff, without end (no data is skipped); past <see cref="KafkaOptions.BatchRetryBudget"/>
/// attempts every retry logs an error and <paramref name="health"/> reports the job stalled until a batch succeeds.
/// The loop itself never dies on bad input.
/// </summary>
public sealed class BatchConsumerLoop(IKafkaClientSupplier kafka, KafkaOptions options, ILogger logger, IRoleHealth? health = null)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How long a graceful close may take. librdkafka's close leaves the group through the coordinator; when the
    /// cluster is unreachable it waits for it indefinitely, and a stop must not.
    /// </summary>
    public static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(3);

    // Partitions whose state store refused this consumer's writes because another consumer claimed them (issue 8 B5):
    // their records are someone else's now, so they are dropped until the group assigns the partitions here again.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<TopicPartition, bool> _fenced = new();

    /// <summary>
    /// Runs the loop until <paramref name="stoppingToken"/> is cancelled. A consumer that fails (a fatal client error,
    /// anything unexpected) is closed and a new one joins the group after a backoff, with
    /// reaseq_consumer_restarts_total counted and the job reported unhealthy until the new one is assigned: the loop
    /// never ends on its own. (Before, the first exception out of a poll ended it silently: its consumer left the group
    /// for good and the role stalled, issue 8 G's broker scenario.)
    /// </summary>
    public async Task RunAsync(IBatchHandler handler, string? instanceId, CancellationToken stoppingToken)
    {
        HandlerName = handler.Name;
        var groupId = $"{options.GroupPrefix}.{handler.Name}";
        for (var failures = 1; ; failures++)
        {
            try
            {
                await RunConsumerAsync(handler, groupId, instanceId, stoppingToken);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                var backoff = Backoff(failures);
                StreamingMetrics.ConsumerRestarted(groupId, e);
                health?.ReportStalled(handler.Name, failures, e);
                _restarted = true;
                logger.LogError(e, "{Handler}: UNHEALTHY: its consumer failed ({Reason}); a new one joins the group in {Backoff}",
                    handler.Name, e.Message, backoff);
                if (stoppingToken.WaitHandle.WaitOne(backoff)) return;
            }
        }
    }

    // Set when a consumer failed and was replaced; the next assignment reports the job healthy again.
    private volatile bool _restarted;

    private async Task RunConsumerAsync(IBatchHandler handler, string groupId, string? instanceId, CancellationToken stoppingToken)
    {
        var owned = new HashSet<TopicPartition>();
        var uncommitted = new Dictionary<TopicPartition, long>();
        IConsumer<byte[]?, byte[]?>? consumerRef = null;
        Task? inFlight = null;
        List<ConsumeResult<byte[]?, byte[]?>>? inFlightBatch = null;
        var retired = false;

        // The batch being made durable must finish before a rebalance hands its partitions over, and before its
        // offsets count as consumed.
        void CompleteInFlight()
        {
            if (inFlight is null) return;
            var (task, batch) = (inFlight, inFlightBatch!);
            // Awaited once: a batch that failed (cancelled at shutdown) is not waited for again by the revoke on close.
            inFlight = null;
            inFlightBatch = null;
            task.GetAwaiter().GetResult();
            foreach (var r in batch) uncommitted[r.TopicPartition] = r.Offset.Value + 1;
        }

        void CommitQuietly(IEnumerable<TopicPartition> partitions)
        {
            // Kafka's committed offsets only serve lag monitoring; the handler's stored offsets are the truth. They never
            // run ahead of the handler's durable state (issue 8 B4): a reader of them must not believe more was kept.
            var offsets = partitions.Where(uncommitted.ContainsKey)
                .Select(tp => new TopicPartitionOffset(tp, Math.Min(uncommitted[tp], handler.DurableOffset(tp) ?? long.MaxValue)))
                .Where(o => o.Offset.Value > 0).ToList();
            if (offsets.Count == 0 || consumerRef is null) return;
            // Stored, not committed here: the client commits stored offsets in the background (auto-commit, and on
            // revoke and close). A synchronous commit blocked this poll thread while no coordinator answered, for
            // up to the session timeout each time (10.9 s measured in the broker outage scenario).
            foreach (var o in offsets)
            {
                try
                {
                    consumerRef.StoreOffset(o);
                    if (uncommitted[o.TopicPartition] == o.Offset.Value) uncommitted.Remove(o.TopicPartition);
                }
                catch (KafkaException e)
                {
                    logger.LogDebug("{Handler}: offset for Kafka not stored: {Reason}", handler.Name, e.Error.Reason);
                }
            }
        }

        var consumer = kafka.CreateConsumer(groupId, $"{groupId}-{instanceId ?? Environment.ProcessId.ToString()}", b => b
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                if (retired) return [];
                CompleteInFlight();
                health?.ReportLoading(handler.Name);
                var stored = Retrying("loading the assigned partitions' state", () => handler.OnAssigned(partitions), stoppingToken);
                foreach (var tp in partitions)
                {
                    owned.Add(tp);
                    _fenced.TryRemove(tp, out bool _);
                }
                health?.ReportAssigned(handler.Name, owned.Count);
                if (_restarted)
                {
                    _restarted = false;
                    health?.ReportHealthy(handler.Name);
                }
                logger.LogInformation("{Handler}: assigned {Partitions}", handler.Name, Describe(partitions));
                return partitions.Select(tp => new TopicPartitionOffset(tp, stored.TryGetValue(tp, out var next) ? new Offset(next) : Offset.Unset));
            })
            .SetPartitionsRevokedHandler((_, partitions) =>
            {
                if (retired) return;
                var tps = partitions.Select(p => p.TopicPartition).ToList();
                CompleteInFlight();
                CommitQuietly(tps);
                foreach (var tp in tps) owned.Remove(tp);
                handler.OnRevoked(tps);
                health?.ReportAssigned(handler.Name, owned.Count);
                logger.LogInformation("{Handler}: revoked {Partitions}", handler.Name, Describe(tps));
            })
            .SetPartitionsLostHandler((_, partitions) =>
            {
                if (retired) return;
                var tps = partitions.Select(p => p.TopicPartition).ToList();
                try { CompleteInFlight(); } catch (Exception e) { logger.LogWarning(e, "{Handler}: in-flight batch failed while partitions were lost", handler.Name); }
                foreach (var tp in tps) { owned.Remove(tp); uncommitted.Remove(tp); }
                handler.OnLost(tps);
                health?.ReportAssigned(handler.Name, owned.Count);
                logger.LogWarning("{Handler}: lost {Partitions}", handler.Name, Describe(tps));
            })
            .SetErrorHandler((_, error) =>
            {
                StreamingMetrics.BrokerError("consumer", error.Code);
                if (error.IsFatal) logger.LogError("{Handler}: fatal Kafka error {Error}", handler.Name, error.Reason);
                else logger.LogDebug("{Handler}: Kafka error {Error}", handler.Name, error.Reason);
            }));
        consumerRef = consumer;
        consumer.Subscribe(handler.Topics);
        health?.ReportJoining(handler.Name);

        var wait = TimeSpan.FromMilliseconds(options.MaxBatchWaitMs);
        var maxBatchSize = Math.Min(options.MaxBatchSize, handler.MaxBatchSize ?? int.MaxValue);
        var lastCommit = Stopwatch.StartNew();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var batch = new List<ConsumeResult<byte[]?, byte[]?>>(Math.Min(maxBatchSize, 4_096));
                var filling = new Stopwatch();
                while (batch.Count < maxBatchSize)
                {
                    // Wait for the first record (briefly, to stay responsive to shutdown), then fill the batch for
                    // at most MaxBatchWaitMs: large batches under load, low latency when traffic is light.
                    var timeout = batch.Count == 0 ? IdlePoll : wait - filling.Elapsed;
                    if (timeout < TimeSpan.Zero) break;
                    ConsumeResult<byte[]?, byte[]?>? result;
                    try
                    {
                        result = consumer.Consume(timeout);
                    }
                    catch (ConsumeException e) when (!e.Error.IsFatal)
                    {
                        // A broker error the client hands to the application (a fetch answered REQUEST_TIMED_OUT, say):
                        // the client retries that fetch by itself, so the loop goes on. Uncaught, it ended the loop.
                        StreamingMetrics.BrokerError("consumer", e.Error.Code);
                        logger.LogWarning("{Handler}: Kafka consume error {Code} on {Partition}: {Reason}; the client retries",
                            handler.Name, e.Error.Code, e.ConsumerRecord?.TopicPartition?.ToString() ?? "-", e.Error.Reason);
                        break;
                    }
                    if (result is null) break;
                    if (result.IsPartitionEOF) continue;
                    if (batch.Count == 0) filling.Start();
                    batch.Add(result);
                }
                // A rebalance inside Consume may have taken partitions away: their records belong to the new owner now.
                if (batch.Count > 0 && batch.Exists(r => !owned.Contains(r.TopicPartition) || _fenced.ContainsKey(r.TopicPartition)))
                    batch.RemoveAll(r => !owned.Contains(r.TopicPartition) || _fenced.ContainsKey(r.TopicPartition));
                if (inFlight is not null)
                {
                    await inFlight;
                    CompleteInFlight();
                }
                if (batch.Count == 0)
                {
                    // Idle: the last batches' offsets still reach Kafka, so lag-based autoscaling sees a drained group.
                    if (lastCommit.ElapsedMilliseconds > 1_000 && uncommitted.Count > 0)
                    {
                        CommitQuietly(owned);
                        lastCommit.Restart();
                    }
                    await IdleAsync(handler, stoppingToken);
                    continue;
                }

                inFlight = HandleWithRetryAsync(handler, groupId, batch, stoppingToken);
                inFlightBatch = batch;
                if (lastCommit.ElapsedMilliseconds > 1_000)
                {
                    CommitQuietly(owned);
                    lastCommit.Restart();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Close leaves the group cleanly (revoke handler commits and drops state) so the others take over at once.
            try { CompleteInFlight(); } catch (OperationCanceledException) { }
            health?.ReportStopped(handler.Name);
            if (CloseWithin(consumer, handler.Name, CommitQuietly, owned, CloseTimeout))
            {
                consumer.Dispose();
            }
            else if (!stoppingToken.IsCancellationRequested)
            {
                // A failed consumer that did not close in time is replaced: whatever its close still calls back must not
                // reach the handler, which will be serving the new consumer's partitions.
                retired = true;
                if (owned.Count > 0) handler.OnLost([.. owned]);
                owned.Clear();
            }
        }
    }

    /// <summary>
    /// Commits and closes on another thread and waits at most <paramref name="timeout"/>; false when the close is still
    /// running (the consumer is then left to the process's exit: disposing it would block the same way).
    /// </summary>
    private bool CloseWithin(IConsumer<byte[]?, byte[]?> consumer, string name, Action<IEnumerable<TopicPartition>> commit,
                             HashSet<TopicPartition> owned, TimeSpan timeout)
    {
        var closing = Task.Factory.StartNew(() =>
        {
            try
            {
                commit(owned);
                consumer.Close();
            }
            catch (KafkaException e)
            {
                logger.LogWarning("{Handler}: close failed: {Reason}", name, e.Error.Reason);
            }
            catch (OperationCanceledException)
            {
                // The revoke on close met a batch cancelled by the stop: nothing of it was committed.
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try { closing.Wait(timeout); } catch (AggregateException) { /* rethrown unwrapped below */ }
        if (closing.IsCompleted)
        {
            closing.GetAwaiter().GetResult();
            return true;
        }
        logger.LogWarning("{Handler}: consumer did not close within {Timeout} s (cluster unreachable?); leaving the group to the session timeout",
            name, timeout.TotalSeconds);
        return false;
    }

    private int _idleFailures;
    private DateTime _idleRetryAt;

    /// <summary>
    /// Deferred work (checkpoints) outside a batch. An infrastructure failure here (state store down) is retried at the
    /// next idle poll after a backoff, and the job reported unhealthy meanwhile; it never ends the loop (issue 8 C11).
    /// </summary>
    private async Task IdleAsync(IBatchHandler handler, CancellationToken ct)
    {
        if (DateTime.UtcNow < _idleRetryAt) return;
        try
        {
            await handler.OnIdleAsync(ct);
            if (_idleFailures > 0) health?.ReportHealthy(handler.Name);
            _idleFailures = 0;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _idleFailures++;
            var backoff = Backoff(_idleFailures);
            health?.ReportStalled(handler.Name, _idleFailures, e);
            logger.LogError(e, "{Handler}: UNHEALTHY: idle work failed {Attempt} times; retrying in {Backoff}", handler.Name, _idleFailures, backoff);
            _idleRetryAt = DateTime.UtcNow + backoff;
        }
    }

    /// <summary>
    /// Runs work the loop cannot go on without (loading an assigned partition's state) until it succeeds, with backoff,
    /// reporting the job unhealthy meanwhile; only a stop ends it (issue 8 C11). A failure never faults the worker.
    /// </summary>
    private T Retrying<T>(string what, Func<T> work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = work();
                if (attempt > 1)
                {
                    health?.ReportHealthy(HandlerName);
                    logger.LogInformation("{Handler}: {What} succeeded after {Attempts} attempts", HandlerName, what, attempt);
                }
                return result;
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                var backoff = Backoff(attempt);
                health?.ReportStalled(HandlerName, attempt, e);
                logger.LogError(e, "{Handler}: UNHEALTHY: {What} failed {Attempt} times; retrying in {Backoff}", HandlerName, what, attempt, backoff);
                if (ct.WaitHandle.WaitOne(backoff)) ct.ThrowIfCancellationRequested();
            }
        }
    }

    private string HandlerName { get; set; } = "";

    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(attempt - 1, 16))));

    private async Task HandleWithRetryAsync(IBatchHandler handler, string group, List<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken ct)
    {
        // Off the poll thread: the loop fills the next batch while this one is decoded and made durable.
        await Task.Yield();
        var backoff = TimeSpan.FromMilliseconds(100);
        var started = Stopwatch.GetTimestamp();
        var spans = StreamingTracing.StartProcess(group, batch);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                try
                {
                    await handler.HandleBatchAsync(batch, ct);
                }
                catch (PartitionFencedException fenced)
                {
                    // Nothing of the batch committed. Its fenced partitions belong to another consumer now: retrying
                    // them could never succeed, and would keep this loop from polling the rebalance that takes them away.
                    var lost = batch.Select(r => r.TopicPartition).Distinct()
                        .Where(tp => tp.Topic == fenced.Topic && fenced.Partitions.Contains(tp.Partition.Value)).ToList();
                    if (lost.Count == 0) throw;
                    foreach (var tp in lost) _fenced[tp] = true;
                    handler.OnLost(lost);
                    batch.RemoveAll(r => _fenced.ContainsKey(r.TopicPartition));
                    logger.LogWarning("{Handler}: {Reason}; dropping partitions {Partitions} until the group assigns them here again",
                        handler.Name, fenced.Message, Describe(lost));
                    if (batch.Count == 0) return;
                    await handler.HandleBatchAsync(batch, ct);
                }
                StreamingMetrics.RecordsConsumed(group, batch);
                StreamingMetrics.BatchDone(group, Stopwatch.GetElapsedTime(started));
                StreamingTracing.End(spans, null);
                if (attempt > 1)
                {
                    logger.LogInformation("{Handler}: batch of {Count} succeeded after {Attempts} attempts", handler.Name, batch.Count, attempt);
                    health?.ReportHealthy(handler.Name);
                }
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Per-record problems are the handler's to dead-letter; what reaches here is infrastructure (state
                // store down, outputs not delivered, ...). The batch is retried as a whole: its state never committed.
                StreamingMetrics.BatchFailed(group, e);
                if (attempt >= options.BatchRetryBudget)
                {
                    health?.ReportStalled(handler.Name, attempt, e);
                    logger.LogError(e, "{Handler}: UNHEALTHY: batch of {Count} ({Partitions}) failed {Attempt} times, past the retry budget of {Budget}; " +
                                       "its partitions make no progress. Retrying in {Backoff} (nothing is skipped)",
                        handler.Name, batch.Count, Describe(batch.Select(r => r.TopicPartition).Distinct()), attempt, options.BatchRetryBudget, backoff);
                }
                else
                {
                    logger.LogWarning(e, "{Handler}: batch of {Count} failed (attempt {Attempt} of a budget of {Budget}); retrying in {Backoff}",
                        handler.Name, batch.Count, attempt, options.BatchRetryBudget, backoff);
                }
                await Task.Delay(backoff, ct);
                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
            }
        }
    }

    private static string Describe(IEnumerable<TopicPartition> partitions) =>
        string.Join(", ", partitions.GroupBy(p => p.Topic).Select(g => $"{g.Key}[{string.Join(",", g.Select(p => p.Partition.Value).Order())}]"));
}
