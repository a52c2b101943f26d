using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Processors.Sequence.Streaming;

/// <summary>
/// The primary category of a clicked item, for the CD rule (paper §3.1), joined deterministically (issue 8 B8): the
/// click's own context["category"] when the producer sent one; else the first element of the item's category_path as of
/// the click's event time, i.e. from the latest item update with ts_ms ≤ the click's; else unknown (no CD decision).
/// <para>
/// The sequence role reads reaseq.item-updates itself (every partition, from the beginning) instead of the catalog
/// another role writes to PostgreSQL, and before a batch that needs the catalog it reads up to the item log's end as
/// it stands then. So every item update produced before a click is seen by that click, whatever the consumers' timing,
/// lag, restarts or kill points, and none produced later is (event time bounds it too): the same input gives the same
/// categories. The knowledge role's category (a full path "A &gt; B") is never used: it is not the merchant's primary
/// category and would make false CD gaps. Unknown items cost nothing: catching up reads only what the log holds
/// (issue 8 F21).
/// </para>
/// </summary>
public sealed class ItemCategoryResolver : IDisposable
{
    private readonly IKafkaClientSupplier _kafka;
    private readonly SequenceProcessorOptions _options;
    private readonly int _partitions;
    private readonly ILogger _logger;
    private readonly AvroSerde<ItemUpdate> _serde = new();
    // Per item, its category changes in event-time order (ts_ms, primary category or null); copy-on-write arrays.
    private readonly ConcurrentDictionary<string, (long TsMs, string? Category)[]> _history = new(StringComparer.Ordinal);
    private readonly long[] _consumed;
    private readonly object _gate = new();
    private IConsumer<byte[]?, byte[]?>? _consumer;
    private Task? _reader;
    private readonly CancellationTokenSource _stopping = new();

    public ItemCategoryResolver(IKafkaClientSupplier kafka, SequenceProcessorOptions options, KafkaOptions kafkaOptions, ILogger<ItemCategoryResolver>? logger = null)
    {
        _kafka = kafka;
        _options = options;
        _partitions = kafkaOptions.Partitions;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _consumed = new long[_partitions];
    }

    /// <summary>Item updates read so far.</summary>
    public long ItemUpdatesRead { get; private set; }

    /// <summary>
    /// Reads the item-update log up to its end as of now (a no-op when no click of the batch needs the catalog). Fails
    /// (the batch is retried) when the log cannot be read within Sequence:Processor:CatalogWaitMs: deciding without it
    /// would make the categories depend on timing.
    /// </summary>
    public async Task CatchUpAsync(bool needed, CancellationToken ct)
    {
        if (!needed) return;
        var consumer = EnsureReader();
        var waited = Stopwatch.StartNew();
        var budget = TimeSpan.FromMilliseconds(Math.Max(1_000, _options.CatalogWaitMs));
        long[]? ends = null;
        while (true)
        {
            try
            {
                ends ??= await Task.Run(() => Enumerable.Range(0, _partitions).Select(p =>
                {
                    var w = consumer.QueryWatermarkOffsets(new TopicPartition(Topics.ItemUpdates, p), TimeSpan.FromSeconds(1));
                    return w.High.Value <= w.Low.Value ? 0 : w.High.Value;
                }).ToArray(), ct);
                if (CaughtUp(ends)) return;
            }
            catch (KafkaException e) when (waited.Elapsed < budget)
            {
                _logger.LogDebug("sequence: item-update log end not known yet: {Reason}", e.Error.Reason);
            }
            if (waited.Elapsed >= budget)
                throw new TimeoutException($"sequence: the item-update log could not be read to its end within {budget.TotalMilliseconds} ms; the batch is retried");
            await Task.Delay(5, ct);
        }
    }

    private bool CaughtUp(long[] ends)
    {
        lock (_gate)
        {
            for (var p = 0; p < ends.Length; p++)
                if (_consumed[p] < ends[p]) return false;
            return true;
        }
    }

    /// <summary>The category of a click (see the class summary); null: unknown.</summary>
    public string? Resolve(string itemId, long clickTsMs, IReadOnlyDictionary<string, string> context)
    {
        if (context.TryGetValue("category", out var fromClick) && fromClick.Length > 0) return fromClick;
        if (!_history.TryGetValue(itemId, out var versions)) return null;
        string? category = null;
        foreach (var (ts, c) in versions)
        {
            if (ts > clickTsMs) break;
            category = c;
        }
        return category;
    }

    private IConsumer<byte[]?, byte[]?> EnsureReader()
    {
        lock (_gate)
        {
            if (_consumer is not null) return _consumer;
            _consumer = _kafka.CreateConsumer($"reaseq-sequence-catalog-{Guid.NewGuid():N}", "reaseq-sequence-catalog");
            _consumer.Assign(Enumerable.Range(0, _partitions).Select(p => new TopicPartitionOffset(Topics.ItemUpdates, p, Offset.Beginning)));
            var consumer = _consumer;
            _reader = Task.Factory.StartNew(() => Read(consumer, _stopping.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            return _consumer;
        }
    }

    private void Read(IConsumer<byte[]?, byte[]?> consumer, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            ConsumeResult<byte[]?, byte[]?>? r;
            try { r = consumer.Consume(TimeSpan.FromMilliseconds(100)); }
            catch (ConsumeException e)
            {
                _logger.LogDebug("sequence: item-update read failed: {Reason}", e.Error.Reason);
                continue;
            }
            if (r is null || r.IsPartitionEOF) continue;
            try
            {
                var update = _serde.Deserialize(r.Message.Value);
                var category = update.Op == ItemOp.DELETE || update.CategoryPath.Count == 0 || update.CategoryPath[0].Length == 0 ? null : update.CategoryPath[0];
                _history.AddOrUpdate(update.ItemId, _ => [(update.TsMs, category)], (_, old) => Insert(old, update.TsMs, category));
            }
            catch (Exception e) when (e is ContractException or InvalidDataException or Avro.AvroException)
            {
                // The ingest role dead-letters bad item updates; here they are simply not part of the catalog.
                _logger.LogDebug("sequence: unreadable item update at {Partition}@{Offset} skipped: {Reason}", r.Partition.Value, r.Offset.Value, e.Message);
            }
            lock (_gate)
            {
                _consumed[r.Partition.Value] = r.Offset.Value + 1;
                ItemUpdatesRead++;
            }
        }
    }

    /// <summary>Inserts a version in event-time order (equal times: the later record wins); keeps only changes.</summary>
    private static (long, string?)[] Insert((long TsMs, string? Category)[] versions, long ts, string? category)
    {
        var list = versions.ToList();
        var at = list.FindLastIndex(v => v.TsMs <= ts) + 1;
        list.Insert(at, (ts, category));
        for (var i = list.Count - 1; i > 0; i--)
            if (string.Equals(list[i].Category, list[i - 1].Category, StringComparison.Ordinal)) list.RemoveAt(i);
        return [.. list];
    }

    public void Dispose()
    {
        _stopping.Cancel();
        try { _reader?.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { }
        lock (_gate)
        {
            _consumer?.Close();
            _consumer?.Dispose();
            _consumer = null;
        }
        _stopping.Dispose();
    }
}
