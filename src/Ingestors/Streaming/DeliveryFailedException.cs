namespace ReaSeq.Ingestors.Streaming;

/// <summary>Records of a batch were not delivered: the batch's state must not commit; the batch is retried.</summary>
public sealed class DeliveryFailedException(int failed, int total, string firstFailure)
    : Exception($"{failed} of {total} records of the batch were not delivered (first: {firstFailure}); nothing of the batch commits")
{
    public int FailedCount { get; } = failed;
    public int TotalCount { get; } = total;
}
