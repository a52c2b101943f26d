using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ReaSeq.Processors.Dllm;

/// <summary>The retraining schedule: every check interval, train a version if one is due and this instance leads.</summary>
public sealed class DllmTrainerService(DllmTrainer trainer, DllmTrainerOptions options, ILogger<DllmTrainerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Enabled) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.CheckIntervalMs, stoppingToken);
                await trainer.TrainIfDueAsync(force: false, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A failed run leaves the versions as they are; the next check tries again.
                logger.LogWarning(e, "dllm: training run failed; the newest version stays in use");
            }
        }
    }
}
