using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>One BackgroundService per consumer job: runs the shared batch loop for one handler.</summary>
public sealed class ConsumerWorker<THandler>(THandler handler, IKafkaClientSupplier kafka, KafkaOptions options, IRoleHealth health, ILogger<THandler> logger)
    : BackgroundService where THandler : IBatchHandler
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Counted before the host reports itself started: readiness waits for this job's first assignment.
        health.ReportJoining(handler.Name);
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        // The loop blocks in librdkafka calls; give it its own thread instead of a pool thread.
        Task.Factory.StartNew(
            () => new BatchConsumerLoop(kafka, options, logger, health).RunAsync(handler, null, stoppingToken),
            stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
}
