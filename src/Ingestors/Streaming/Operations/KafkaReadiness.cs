using Confluent.Kafka;

namespace ReaSeq.Ingestors.Streaming.Operations;

/// <summary>Ready while the Kafka cluster answers a metadata request with at least one broker.</summary>
public sealed class KafkaReadiness(KafkaClientSupplier kafka) : IReadinessContributor, IDisposable
{
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(2);
    private readonly Lazy<IAdminClient> _admin = new(() => kafka.CreateAdminClient("reaseq-readiness"));

    public string Name => "kafka";

    public async Task<ReadinessCheck> CheckAsync(CancellationToken cancellationToken)
    {
        // GetMetadata blocks in librdkafka; off the request's thread, bounded by its own timeout.
        var check = Task.Run(() =>
        {
            try
            {
                var metadata = _admin.Value.GetMetadata(MetadataTimeout);
                return metadata.Brokers.Count > 0
                    ? ReadinessCheck.Ok($"{metadata.Brokers.Count} brokers")
                    : ReadinessCheck.NotReady("no broker in the cluster's metadata");
            }
            catch (KafkaException e)
            {
                StreamingMetrics.BrokerError("readiness", e.Error.Code);
                return ReadinessCheck.NotReady($"{e.Error.Code}: {e.Error.Reason}");
            }
        }, CancellationToken.None);
        try
        {
            return await check.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ReadinessCheck.NotReady("no answer in time");
        }
    }

    public void Dispose()
    {
        if (_admin.IsValueCreated) _admin.Value.Dispose();
    }
}
