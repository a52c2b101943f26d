using Confluent.Kafka;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Processors.Trainer;

/// <summary>
/// reaseq.augmented-sequences → ctr_augmented_sequences: keeps every augmented sequence (issue 7, paper §4.2.4) with
/// its event time, so a training example can take the newest one older than its impression. Rows and offsets
/// commit in one transaction; a repeated record is kept once. Without a dllm role the topic stays empty and the
/// trainer trains on observed sequences alone.
/// </summary>
public sealed class AugmentedSequenceRecorder(
    AvroSerde<AugmentedSequence> serde,
    NpgsqlDataSource db,
    DeadLetterPublisher deadLetters,
    TrainerOptions options,
    KafkaOptions kafkaOptions) : IBatchHandler
{
    private long _recorded;

    public string Name => "trainer-augmented";

    public IReadOnlyList<string> Topics => [options.AugmentedTopic];

    public long Recorded => Interlocked.Read(ref _recorded);

    private string Group => $"{kafkaOptions.GroupPrefix}.{Name}";

    public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions) =>
        PgOffsets.LoadAsync(db, Group, partitions.Select(p => (p.Topic, p.Partition.Value)).ToList(), CancellationToken.None).GetAwaiter().GetResult()
            .ToDictionary(o => new TopicPartition(o.Topic, o.Partition), o => o.NextOffset);

    public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions)
    {
    }

    public async Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken ct)
    {
        var tracker = new DeliveryTracker();
        var rows = new List<AugmentedSequence>();
        var offsets = new Dictionary<(string, int), long>();
        foreach (var record in batch)
        {
            offsets[(record.Topic, record.Partition.Value)] = record.Offset.Value + 1;
            try
            {
                var sequence = serde.Deserialize(record.Message.Value);
                rows.Add(Check(sequence));
            }
            catch (ContractException e)
            {
                deadLetters.Publish(tracker, record, Name, e);
            }
        }
        await tracker.WaitAsync(ct);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        foreach (var row in rows)
        {
            await using var insert = new NpgsqlCommand(
                "insert into ctr_augmented_sequences (user_id, ts_ms, sequence_version, model_version, observed, fill_positions, fill_vectors) " +
                "values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing", conn, tx);
            insert.Parameters.AddWithValue(row.UserId);
            insert.Parameters.AddWithValue(row.TsMs);
            insert.Parameters.AddWithValue(row.SequenceVersion);
            insert.Parameters.AddWithValue(row.ModelVersion);
            insert.Parameters.AddWithValue(row.Observed.ToArray());
            insert.Parameters.AddWithValue(row.Filled.Select(f => f.Position).ToArray());
            insert.Parameters.AddWithValue(row.Filled.SelectMany(f => f.Vector).ToArray());
            await insert.ExecuteNonQueryAsync(ct);
        }
        await PgOffsets.SaveAsync(conn, tx, Group, offsets.Select(o => new Contracts.Stores.PartitionOffset(o.Key.Item1, o.Key.Item2, o.Value)).ToList(), ct);
        await tx.CommitAsync(ct);
        Interlocked.Add(ref _recorded, rows.Count);
    }

    /// <summary>Fills must share one width (they are stored as one flat array) and point inside the sequence.</summary>
    private static AugmentedSequence Check(AugmentedSequence sequence)
    {
        if (string.IsNullOrEmpty(sequence.UserId)) throw new ContractException(ErrorClasses.Validation, "augmented sequence has no user_id");
        var widths = sequence.Filled.Select(f => f.Vector.Count).Distinct().ToList();
        if (widths.Count > 1 || widths.Any(w => w == 0))
            throw new ContractException(ErrorClasses.Validation, $"fill vectors must share one non-zero width; found {string.Join(", ", widths)}");
        if (sequence.Filled.Any(f => f.Position < 0 || f.Position > sequence.Observed.Count))
            throw new ContractException(ErrorClasses.Validation, $"a fill position lies outside 0..{sequence.Observed.Count}");
        return sequence;
    }
}
