using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Ingestors.Ingest;

/// <summary>Labeled impressions for the trainer; a repeated impression_id is stored once.</summary>
public sealed class PostgresImpressionStore(NpgsqlDataSource db) : IImpressionStore
{
    public Task<IReadOnlyList<PartitionOffset>> LoadOffsetsAsync(string consumerGroup, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct) =>
        PgOffsets.LoadAsync(db, consumerGroup, partitions, ct);

    public Task<IReadOnlyList<PartitionOffset>> ClaimOffsetsAsync(string consumerGroup, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct) =>
        PgOffsets.ClaimOffsetsAsync(db, consumerGroup, partitions, ct);

    public async Task<int> CommitAsync(string consumerGroup, IReadOnlyList<LabeledImpression> impressions, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Offsets first: storing them checks this writer's owner epoch (and locks the rows), so a fenced writer fails
        // before writing anything, and two writers of one partition are serialised.
        await PgOffsets.SaveAsync(conn, tx, consumerGroup, offsets, ct);
        var inserted = 0;
        if (impressions.Count > 0)
        {
            await using var cmd = new NpgsqlCommand(
                "insert into impressions (impression_id, user_id, item_id, ts_ms, label, context) " +
                "select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::smallint[], $6::jsonb[]) on conflict (impression_id) do nothing", conn, tx);
            cmd.Parameters.AddWithValue(impressions.Select(i => i.ImpressionId).ToArray());
            cmd.Parameters.AddWithValue(impressions.Select(i => i.UserId).ToArray());
            cmd.Parameters.AddWithValue(impressions.Select(i => i.ItemId).ToArray());
            cmd.Parameters.AddWithValue(impressions.Select(i => i.TsMs).ToArray());
            cmd.Parameters.AddWithValue(impressions.Select(i => (short)i.Label).ToArray());
            cmd.Parameters.Add(new NpgsqlParameter { Value = impressions.Select(i => JsonSerializer.Serialize(i.Context)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
            inserted = await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return inserted;
    }
}
