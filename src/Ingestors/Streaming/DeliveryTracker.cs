using Confluent.Kafka;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>
/// The delivery reports of one batch's outputs (records and dead letters). Every record a handler produces for a batch
/// is tracked here; <see cref="WaitAsync"/> returns once librdkafka has reported on each of them and throws
/// <see cref="DeliveryFailedException"/> when any was not delivered (after librdkafka's own retries, i.e. at the latest
/// after message.timeout.ms). A handler waits before committing the batch's state, so a failed delivery fails the
/// batch, which the consumer loop retries, and nothing commits. One tracker per batch and caller: producers and the
/// dead-letter publisher are shared by several loops, and one loop's wait never depends on another's records.
/// </summary>
public sealed class DeliveryTracker
{
    private readonly object _gate = new();
    private int _pending;
    private int _total;
    private int _failed;
    private string? _firstFailure;
    private TaskCompletionSource? _drained;

    /// <summary>Records produced through this tracker so far.</summary>
    public int Total
    {
        get { lock (_gate) return _total; }
    }

    /// <summary>Records whose delivery failed so far.</summary>
    public int Failed
    {
        get { lock (_gate) return _failed; }
    }

    /// <summary>Records still waiting for their delivery report.</summary>
    public int Pending
    {
        get { lock (_gate) return _pending; }
    }

    /// <summary>Registers one record about to be produced; the returned handler is its delivery report callback.</summary>
    internal Action<DeliveryReport<byte[]?, byte[]?>> Track(string what)
    {
        lock (_gate)
        {
            _pending++;
            _total++;
        }
        return report => Complete(report.Error.IsError ? $"{what} to {report.Topic}: {report.Error.Code}: {report.Error.Reason}" : null);
    }

    /// <summary>A record registered with <see cref="Track"/> that was never handed to the producer (Produce threw).</summary>
    internal void Abandon(string what, string reason) => Complete($"{what}: {reason}");

    private void Complete(string? failure)
    {
        TaskCompletionSource? drained = null;
        lock (_gate)
        {
            if (failure is not null)
            {
                _failed++;
                _firstFailure ??= failure;
            }
            if (--_pending == 0) (drained, _drained) = (_drained, null);
        }
        drained?.TrySetResult();
    }

    /// <summary>
    /// Waits until every tracked record has its delivery report; throws <see cref="DeliveryFailedException"/> when any
    /// failed. Cancellation abandons the wait (the batch then counts as not durable).
    /// </summary>
    public async Task WaitAsync(CancellationToken ct)
    {
        Task wait;
        lock (_gate)
        {
            if (_pending == 0)
            {
                ThrowIfFailed();
                return;
            }
            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _drained.Task;
        }
        await wait.WaitAsync(ct).ConfigureAwait(false);
        lock (_gate) ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        if (_failed > 0)
            throw new DeliveryFailedException(_failed, _total, _firstFailure!);
    }
}
