using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Models.Training;

namespace ReaSeq.Processors.Dllm;

/// <summary>
/// The filling job: waits until the deployment has a first model version, then runs the shared consumer loop for
/// <see cref="DllmFiller"/>. Before a first version exists nothing is consumed, so no SequenceUpdate is ever
/// published without its fills; the backlog waits in the topic (and shows as the group's lag).
/// </summary>
public sealed class DllmFillWorker(DllmFiller filler, DllmOptions dllm, IKafkaClientSupplier kafka, KafkaOptions options, IRoleHealth health, ILogger<DllmFiller> logger)
    : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(async () =>
        {
            if (dllm.CpuThreads > 0) TorchDevice.SetCpuThreads(dllm.CpuThreads);
            try
            {
                await filler.WaitForModelAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            await new BatchConsumerLoop(kafka, options, logger, health).RunAsync(filler, null, stoppingToken);
        }, stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
}
