using Npgsql;
using ReaSeq.Contracts.Stores;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>Reads and writes consumer_offsets; writing always happens inside the caller's state transaction.</summary>
public static class PgOffsets
{
    public static async Task<IReadOnlyList<PartitionOffset>> LoadAsync(NpgsqlDataSource db, string group,
        IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct)
    {
        if (partitions.Count == 0) return [];
        await using var cmd = db.CreateCommand(
            "select o.topic, o.partition, o.next_offset from consumer_offsets o join unnest($2::text[], $3::int[]) p(topic, partition) " +
            "on o.topic = p.topic and o.partition = p.partition where o.consumer_group = $1");
        cmd.Parameters.AddWithValue(group);
        cmd.Parameters.AddWithValue(partitions.Select(p => p.Topic).ToArray());
        cmd.Parameters.AddWithValue(partitions.Select(p => p.Partition).ToArray());
        var result = new List<PartitionOffset>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) result.Add(new PartitionOffset(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2)));
        return result;
    }

    /// <summary>
    /// Stores offsets inside the caller's state transaction. An offset with an <see cref="PartitionOffset.OwnerEpoch"/> is
    /// stored only while the partition's row still holds that epoch; otherwise <see cref="PartitionFencedException"/> is
    /// thrown and the caller's transaction, state included, never commits. The update locks the row until the
    /// transaction ends, so a claim either comes before it (and fences it) or waits for the commit (and loads it).
    /// </summary>
    public static async Task SaveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string group, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
    {
        if (offsets.Count == 0) return;
        await using var cmd = new NpgsqlCommand(
            "insert into consumer_offsets (consumer_group, topic, partition, next_offset, owner_epoch) " +
            "select $1, t, p, o, e from unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) x(t, p, o, e) " +
            "on conflict (consumer_group, topic, partition) do update set next_offset = excluded.next_offset, updated_at = now() " +
            "where excluded.owner_epoch = 0 or consumer_offsets.owner_epoch = excluded.owner_epoch " +
            "returning topic, partition", conn, tx);
        cmd.Parameters.AddWithValue(group);
        cmd.Parameters.AddWithValue(offsets.Select(o => o.Topic).ToArray());
        cmd.Parameters.AddWithValue(offsets.Select(o => o.Partition).ToArray());
        cmd.Parameters.AddWithValue(offsets.Select(o => o.NextOffset).ToArray());
        cmd.Parameters.AddWithValue(offsets.Select(o => o.OwnerEpoch).ToArray());
        var stored = new HashSet<(string, int)>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) stored.Add((reader.GetString(0), reader.GetInt32(1)));
        var fenced = offsets.Where(o => !stored.Contains((o.Topic, o.Partition))).ToList();
        if (fenced.Count > 0) throw new PartitionFencedException(fenced[0].Topic, fenced.Select(f => f.Partition).ToList());
    }

    /// <summary>
    /// <see cref="ClaimAsync"/> and the stored offsets in one statement: each partition's new owner epoch with its next
    /// offset (0 for a partition never stored).
    /// </summary>
    public static async Task<IReadOnlyList<PartitionOffset>> ClaimOffsetsAsync(NpgsqlDataSource db, string group,
        IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct)
    {
        var claimed = new List<PartitionOffset>();
        if (partitions.Count == 0) return claimed;
        await using var cmd = db.CreateCommand(
            "insert into consumer_offsets (consumer_group, topic, partition, next_offset, owner_epoch) " +
            "select $1, t, p, 0, 1 from unnest($2::text[], $3::int[]) x(t, p) " +
            "on conflict (consumer_group, topic, partition) do update set owner_epoch = consumer_offsets.owner_epoch + 1 " +
            "returning topic, partition, next_offset, owner_epoch");
        cmd.Parameters.AddWithValue(group);
        cmd.Parameters.AddWithValue(partitions.Select(p => p.Topic).ToArray());
        cmd.Parameters.AddWithValue(partitions.Select(p => p.Partition).ToArray());
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            claimed.Add(new PartitionOffset(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2)) { OwnerEpoch = reader.GetInt64(3) });
        return claimed;
    }

    /// <summary>
    /// Claims partitions for a new owner (issue 8 B5): bumps each partition's owner epoch and returns the epoch now owned.
    /// A partition without a row gets one at offset 0 (nothing consumed). Writers pass their epoch to
    /// <see cref="EnsureOwnerAsync"/> in every state transaction, so a consumer that lost the partition meanwhile commits nothing.
    /// </summary>
    public static async Task<IReadOnlyDictionary<(string Topic, int Partition), long>> ClaimAsync(NpgsqlDataSource db, string group,
        IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct) =>
        (await ClaimOffsetsAsync(db, group, partitions, ct)).ToDictionary(o => (o.Topic, o.Partition), o => o.OwnerEpoch);

    /// <summary>
    /// Inside the caller's state transaction: locks the partitions' offset rows and throws <see cref="PartitionFencedException"/>
    /// when any has been claimed by another owner since <paramref name="owned"/>'s epoch. The lock holds until the
    /// transaction ends, so no claim can slip in between this check and the commit.
    /// </summary>
    public static async Task EnsureOwnerAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string group,
        IReadOnlyList<(string Topic, int Partition, long Epoch)> owned, CancellationToken ct)
    {
        if (owned.Count == 0) return;
        await using var cmd = new NpgsqlCommand(
            "select o.topic, o.partition, o.owner_epoch from consumer_offsets o join unnest($2::text[], $3::int[]) p(topic, partition) " +
            "on o.topic = p.topic and o.partition = p.partition where o.consumer_group = $1 order by o.topic, o.partition for update of o", conn, tx);
        cmd.Parameters.AddWithValue(group);
        cmd.Parameters.AddWithValue(owned.Select(p => p.Topic).ToArray());
        cmd.Parameters.AddWithValue(owned.Select(p => p.Partition).ToArray());
        var current = new Dictionary<(string, int), long>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) current[(reader.GetString(0), reader.GetInt32(1))] = reader.GetInt64(2);
        var stale = owned.Where(o => current.GetValueOrDefault((o.Topic, o.Partition)) != o.Epoch).ToList();
        if (stale.Count > 0) throw new PartitionFencedException(stale[0].Topic, stale.Select(s => s.Partition).ToList());
    }
}
