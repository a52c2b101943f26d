using System.Diagnostics;
using ReaSeq.Contracts;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Ingestors.Replay;

/// <summary>
/// Publishes a replay source to the platform's topics: as fast as possible (speed 0) or time-scaled by event time
/// (speed 1000 = a thousand times faster than it happened).
/// </summary>
public sealed class ReplayPublisher(ContractProducer producer)
{
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMilliseconds(200);
    private long _items;
    private long _clicks;
    private long _impressions;

    public long Items => Interlocked.Read(ref _items);
    public long Clicks => Interlocked.Read(ref _clicks);
    public long Impressions => Interlocked.Read(ref _impressions);
    public long Total => Items + Clicks + Impressions;

    /// <summary>Records published per topic so far.</summary>
    public IReadOnlyDictionary<string, long> PublishedByTopic => new Dictionary<string, long>
    {
        [Topics.ItemUpdates] = Items,
        [Topics.Clicks] = Clicks,
        [Topics.Impressions] = Impressions,
    };

    /// <param name="source"></param>

    /// <param name="speed"></param>
    /// <param name="ct"></param>    /// <param name="backlog">
    /// Records published but not yet processed by every consumer (null: unknown). Publishing pauses while it exceeds
    /// <paramref name="maxBacklog"/>: a log that retains little (the embedded broker keeps about 5 MB per partition)
    /// must not be written faster than it is read, or the oldest unread records are dropped.
    /// </param>
    /// <param name="maxBacklog"></param>
    public Task PublishAsync(IReplaySource source, double speed, CancellationToken ct, Func<long>? backlog = null, long maxBacklog = 100_000) =>
        Task.Factory.StartNew(() =>
    {
        long sinceCheck = 0;
        var wall = Stopwatch.StartNew();
        long? firstTs = null;
        foreach (var record in source.Read(ct))
        {
            ct.ThrowIfCancellationRequested();
            if (backlog is not null && ++sinceCheck >= 1_000)
            {
                sinceCheck = 0;
                while (backlog() > maxBacklog)
                {
                    producer.Flush(ct);
                    Thread.Sleep(20);
                    ct.ThrowIfCancellationRequested();
                }
            }
            if (speed > 0)
            {
                firstTs ??= record.TsMs;
                var due = TimeSpan.FromMilliseconds((record.TsMs - firstTs.Value) / speed);
                // Sleep in short steps so cancellation stays prompt during long quiet stretches of the data.
                for (var wait = due - wall.Elapsed; wait > TimeSpan.FromMilliseconds(1); wait = due - wall.Elapsed)
                {
                    ct.ThrowIfCancellationRequested();
                    Thread.Sleep(wait < MaxSleep ? wait : MaxSleep);
                }
            }
            switch (record)
            {
                case ReplayItem item:
                    producer.Produce(Topics.ItemUpdates, record.Key, item.Item);
                    Interlocked.Increment(ref _items);
                    break;
                case ReplayClick click:
                    producer.Produce(Topics.Clicks, record.Key, click.Click);
                    Interlocked.Increment(ref _clicks);
                    break;
                case ReplayImpression impression:
                    producer.Produce(Topics.Impressions, record.Key, impression.Impression);
                    Interlocked.Increment(ref _impressions);
                    break;
            }
        }
        producer.Flush(ct);
    }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
