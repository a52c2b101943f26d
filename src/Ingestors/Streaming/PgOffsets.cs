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

    public static async Task SaveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string group, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
    {
        if (offsets.Count == 0) return;
        await using var cmd = new NpgsqlCommand(
            "insert into consumer_offsets (consumer_group, topic, partition, next_offset) " +
            "select $1, t, p, o from unnest($2::text[], $3::int[], $4::bigint[]) x(t, p, o) " +
            "on conflict (consumer_group, topic, partition) do update set next_offset = excluded.next_offset, updated_at = now()", conn, tx);
        cmd.Parameters.AddWithValue(group);
        cmd.Parameters.AddWithValue(offsets.Select(o => o.Topic).ToArray());
        cmd.Parameters.AddWithValue(offsets.Select(o => o.Partition).ToArray());
        cmd.Parameters.AddWithValue(offsets.Select(o => o.NextOffset).ToArray());
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
