using System.Collections.Concurrent;
using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Ingestors.Ingest;

/// <summary>
/// reaseq.clicks → each user's bounded recent click sequence. Users are partitioned by key, so this instance owns
/// every user of its partitions: it keeps their retained event ids in memory (loaded on assignment) to count a
/// repeated event id once without asking the database, and writes only what changed per batch.
/// </summary>
public sealed class ClickIngestor(AvroSerde<ClickEvent> serde, ContractValidator validator, DeadLetterPublisher deadLetters,
    IClickSequenceStore store, IngestStats stats, KafkaOptions kafkaOptions, IngestOptions ingestOptions)
    : IngestorBase<ClickEvent>("ingest-clicks", Contracts.Topics.Clicks, serde, validator.Validate, deadLetters, store, stats, kafkaOptions)
{
    private sealed class UserState(int partition)
    {
        public int Partition = partition;
        public long NextSeq;
        public readonly Queue<(long Seq, string EventId)> Retained = new();
        public readonly HashSet<string> EventIds = new(StringComparer.Ordinal);
    }

    private readonly ConcurrentDictionary<string, UserState> _users = new(StringComparer.Ordinal);

    /// <summary>A click keyed by anything but its user_id would split the user across partitions: dead-lettered.</summary>
    protected override void ValidateSource(ConsumeResult<byte[]?, byte[]?> source, ClickEvent record) => validator.ValidateKey(record, source.Message.Key);

    /// <summary>Users currently owned by this instance (for tests and metrics).</summary>
    public int OwnedUsers => _users.Count;

    protected override async Task LoadStateAsync(IReadOnlyList<int> partitions, CancellationToken ct)
    {
        var owned = partitions.ToHashSet();
        foreach (var (userId, state) in _users)
            if (owned.Contains(state.Partition)) _users.TryRemove(userId, out _);
        foreach (var click in await store.LoadPartitionsAsync(partitions, ct))
        {
            var state = _users.GetOrAdd(click.UserId, _ => new UserState(click.Partition));
            state.Retained.Enqueue((click.Seq, click.EventId));
            state.EventIds.Add(click.EventId);
            state.NextSeq = click.Seq + 1;
        }
    }

    protected override void DropState(IReadOnlyList<int> partitions)
    {
        var dropped = partitions.ToHashSet();
        foreach (var (userId, state) in _users)
            if (dropped.Contains(state.Partition)) _users.TryRemove(userId, out _);
    }

    protected override async Task<(long Accepted, long Duplicates)> CommitAsync(IReadOnlyList<(ConsumeResult<byte[]?, byte[]?> Source, ClickEvent Record)> valid,
        IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
    {
        // Stage the batch without touching the in-memory state: if the transaction fails, the batch is retried
        // against unchanged state.
        var appended = new List<StoredClick>(valid.Count);
        var staged = new Dictionary<string, (int Partition, long NextSeq, HashSet<string> NewIds)>(StringComparer.Ordinal);
        long duplicates = 0;
        foreach (var (source, click) in valid)
        {
            _users.TryGetValue(click.UserId, out var known);
            if (!staged.TryGetValue(click.UserId, out var stage))
                stage = (source.Partition.Value, known?.NextSeq ?? 0, new HashSet<string>(StringComparer.Ordinal));
            if ((known?.EventIds.Contains(click.EventId) ?? false) || !stage.NewIds.Add(click.EventId))
            {
                duplicates++;
                staged[click.UserId] = stage;
                continue;
            }
            appended.Add(new StoredClick(click.UserId, stage.NextSeq, click.EventId, click.ItemId, click.TsMs, click.Action, source.Partition.Value));
            staged[click.UserId] = (source.Partition.Value, stage.NextSeq + 1, stage.NewIds);
        }
        var maxLength = ingestOptions.MaxSequenceLength;
        var trims = staged.Where(s => s.Value.NewIds.Count > 0 && s.Value.NextSeq > maxLength)
            .Select(s => new SequenceTrim(s.Key, s.Value.NextSeq - maxLength))
            .ToList();

        await store.CommitAsync(ConsumerGroup, appended, trims, offsets, ct);

        foreach (var click in appended)
        {
            var state = _users.GetOrAdd(click.UserId, _ => new UserState(staged[click.UserId].Partition));
            state.Partition = staged[click.UserId].Partition;
            state.Retained.Enqueue((click.Seq, click.EventId));
            state.EventIds.Add(click.EventId);
            state.NextSeq = click.Seq + 1;
            while (state.Retained.Count > maxLength) state.EventIds.Remove(state.Retained.Dequeue().EventId);
        }
        return (appended.Count, duplicates);
    }
}
