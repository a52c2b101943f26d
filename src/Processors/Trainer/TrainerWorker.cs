using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Processors.Trainer;

/// <summary>
/// One trainer per deployment (issue 10 §5): each trainer process waits for a PostgreSQL session-level advisory lock
/// (<see cref="TrainerOptions.LeaderLockKey"/>) and only its holder runs the consumer loop. The lock lives as long as
/// the holder's connection, so a killed leader frees it at once and a standby takes over, resuming from the
/// registry's active version and its offsets. A leader whose connection breaks stops training (it may no longer hold
/// the lock) and competes again.
/// </summary>
public sealed class TrainerWorker(
    CtrTrainerProcessor handler,
    NpgsqlDataSource db,
    IKafkaClientSupplier kafka,
    KafkaOptions kafkaOptions,
    IRoleHealth health,
    TrainerMetrics metrics,
    TrainerOptions options,
    ILogger<CtrTrainerProcessor> logger) : BackgroundService
{
    private static readonly TimeSpan LockCheck = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await LeadAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                logger.LogWarning("trainer: leadership ended ({Reason}); competing again in {Retry} ms", e.Message, options.LeaderRetryMs);
                await Task.Delay(options.LeaderRetryMs, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            finally
            {
                metrics.Leader(false);
            }
        }
    }

    private async Task LeadAsync(CancellationToken stoppingToken)
    {
        await using var connection = await db.OpenConnectionAsync(stoppingToken);
        bool waitingLogged = false;
        while (!await TryLockAsync(connection, stoppingToken))
        {
            if (!waitingLogged) logger.LogInformation("trainer: another trainer leads this deployment; standing by");
            waitingLogged = true;
            await Task.Delay(options.LeaderRetryMs, stoppingToken);
        }
        // Whatever ends the leadership (stop, lost connection, a failing loop), the lock is given back here.
        try
        {
            metrics.Leader(true);
            logger.LogInformation("trainer: leader (advisory lock {Key})", options.LeaderLockKey);

            using var lost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var watch = Task.Run(async () =>
            {
                while (!lost.IsCancellationRequested)
                {
                    await Task.Delay(LockCheck, lost.Token);
                    await using var ping = new NpgsqlCommand("select 1", connection);
                    await ping.ExecuteScalarAsync(lost.Token);
                }
            }, CancellationToken.None);
            // The loop blocks in librdkafka calls; give it its own thread instead of a pool thread.
            var loop = Task.Factory.StartNew(
                () => new BatchConsumerLoop(kafka, kafkaOptions, logger, health).RunAsync(handler, null, lost.Token),
                lost.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            var first = await Task.WhenAny(loop, watch);
            if (first == watch && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("trainer: the leader connection failed ({Reason}); stopping training", watch.Exception?.GetBaseException().Message);
            }
            await lost.CancelAsync();
            try
            {
                await loop;
            }
            catch (OperationCanceledException)
            {
            }
            try
            {
                await watch;
            }
            catch (Exception e) when (e is OperationCanceledException or NpgsqlException or InvalidOperationException)
            {
            }
            if (!stoppingToken.IsCancellationRequested) throw new InvalidOperationException("the leader lost its lock connection");
        }
        finally
        {
            await UnlockAsync(connection);
        }
    }

    /// <summary>
    /// Gives the lock back before the connection goes back to the pool: a pooled connection keeps its session, and so
    /// its advisory lock, until it is next used, so a standby in this process or another would wait for ever after a
    /// leader that stopped without exiting. A broken connection has lost the lock already.
    /// </summary>
    private async Task UnlockAsync(NpgsqlConnection connection)
    {
        try
        {
            await using var cmd = new NpgsqlCommand("select pg_advisory_unlock($1)", connection);
            cmd.Parameters.AddWithValue(options.LeaderLockKey);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await cmd.ExecuteScalarAsync(timeout.Token);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or OperationCanceledException)
        {
            logger.LogDebug("trainer: lock not released explicitly ({Reason}); it goes with the connection", e.Message);
        }
    }

    private async Task<bool> TryLockAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select pg_try_advisory_lock($1)", connection);
        cmd.Parameters.AddWithValue(options.LeaderLockKey);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
