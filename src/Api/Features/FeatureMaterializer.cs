using Confluent.Kafka;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Api.Features;

/// <summary>
/// Stores each user's latest SequenceUpdate and AugmentedSequence in api_user_features (consumer group
/// "{prefix}.api-features"), so the score and sequence endpoints read them online from PostgreSQL. Rows and offsets
/// commit in one transaction after the batch's dead letters are delivered; a replay rewrites the same rows, and an
/// older version never overwrites a newer one.
/// </summary>
public sealed class FeatureMaterializer(NpgsqlDataSource db, AvroSerde<SequenceUpdate> sequenceSerde, AvroSerde<AugmentedSequence> augmentedSerde,
    DeadLetterPublisher deadLetters, KafkaOptions kafkaOptions) : IBatchHandler
{
    public string Name => "api-features";

    public IReadOnlyList<string> Topics { get; } = [Contracts.Topics.SequenceGaps, Contracts.Topics.AugmentedSequences];

    private string Group => $"{kafkaOptions.GroupPrefix}.{Name}";

    public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        var stored = PgOffsets.LoadAsync(db, Group, partitions.Select(p => (p.Topic, p.Partition.Value)).ToList(), CancellationToken.None)
            .GetAwaiter().GetResult();
        return stored.ToDictionary(o => new TopicPartition(o.Topic, o.Partition), o => o.NextOffset);
    }

    public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions) { }

    public async Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken ct)
    {
        var next = new Dictionary<(string, int), long>();
        var deliveries = new DeliveryTracker();
        var sequences = new Dictionary<string, (long Version, byte[] Bytes)>(StringComparer.Ordinal);
        var augmented = new Dictionary<string, (long Version, byte[] Bytes)>(StringComparer.Ordinal);
        foreach (var result in batch)
        {
            next[(result.Topic, result.Partition.Value)] = result.Offset.Value + 1;
            try
            {
                var value = result.Message.Value;
                if (value is not null && value.Length > kafkaOptions.MaxRecordBytes)
                    throw new ContractException(ErrorClasses.Validation, $"record is {value.Length} bytes, limit {kafkaOptions.MaxRecordBytes}");
                if (result.Topic == Contracts.Topics.SequenceGaps)
                {
                    var update = sequenceSerde.Deserialize(value);
                    RequireUser(update.UserId);
                    Keep(sequences, update.UserId, update.SequenceVersion, sequenceSerde.Serialize(update));
                }
                else
                {
                    var record = augmentedSerde.Deserialize(value);
                    RequireUser(record.UserId);
                    Keep(augmented, record.UserId, record.SequenceVersion, augmentedSerde.Serialize(record));
                }
            }
            catch (ContractException e)
            {
                deadLetters.Publish(deliveries, result, Name, e);
            }
        }
        await deliveries.WaitAsync(ct);

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (sequences.Count > 0) await UpsertAsync(conn, tx, "sequence_version", "sequence_update", sequences, ct);
        if (augmented.Count > 0) await UpsertAsync(conn, tx, "augmented_version", "augmented", augmented, ct);
        await PgOffsets.SaveAsync(conn, tx, Group, next.Select(kv => new PartitionOffset(kv.Key.Item1, kv.Key.Item2, kv.Value)).ToList(), ct);
        await tx.CommitAsync(ct);
    }

    private static void RequireUser(string userId)
    {
        if (string.IsNullOrWhiteSpace(userId)) throw new ContractException(ErrorClasses.Validation, "user_id is empty");
    }

    private static void Keep(Dictionary<string, (long Version, byte[] Bytes)> latest, string userId, long version, byte[] bytes)
    {
        if (!latest.TryGetValue(userId, out var kept) || version >= kept.Version) latest[userId] = (version, bytes);
    }

    private static async Task UpsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string versionColumn, string valueColumn,
        Dictionary<string, (long Version, byte[] Bytes)> rows, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            $"insert into api_user_features (user_id, {versionColumn}, {valueColumn}) select u, v, b from unnest($1::text[], $2::bigint[], $3::bytea[]) x(u, v, b) " +
            $"on conflict (user_id) do update set {versionColumn} = excluded.{versionColumn}, {valueColumn} = excluded.{valueColumn}, updated_at = now() " +
            $"where api_user_features.{versionColumn} <= excluded.{versionColumn}", conn, tx);
        var users = rows.Keys.ToArray();
        cmd.Parameters.AddWithValue(users);
        cmd.Parameters.AddWithValue(users.Select(u => rows[u].Version).ToArray());
        cmd.Parameters.AddWithValue(users.Select(u => rows[u].Bytes).ToArray());
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
