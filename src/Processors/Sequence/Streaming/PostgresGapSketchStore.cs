using Npgsql;

namespace ReaSeq.Processors.Sequence.Streaming;

/// <summary>
/// <see cref="IGapSketchStore"/> in PostgreSQL: each partition upserts its sketch counts per domain
/// (<c>sequence_gap_sketches</c>); a (domain, epoch) T is computed from the sum over partitions and recorded once in
/// <c>sequence_thresholds</c> (insert … on conflict do nothing, then read back), so concurrent partitions agree.
/// </summary>
public sealed class PostgresGapSketchStore(NpgsqlDataSource db, string consumerGroup, SequenceDetectorOptions options) : IGapSketchStore
{
    public async Task PublishAsync(int partition, string domain, long[] counts, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "insert into sequence_gap_sketches (consumer_group, domain, partition, counts, total) values ($1, $2, $3, $4, $5) " +
            "on conflict (consumer_group, domain, partition) do update set counts = excluded.counts, total = excluded.total, updated_at = now()");
        cmd.Parameters.AddWithValue(consumerGroup);
        cmd.Parameters.AddWithValue(domain);
        cmd.Parameters.AddWithValue(partition);
        cmd.Parameters.AddWithValue(counts);
        cmd.Parameters.AddWithValue(counts.Sum());
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<FrozenThreshold> FreezeAsync(string domain, long epoch, Func<GapQuantileSketch, FrozenThreshold> compute, CancellationToken ct)
    {
        if (await ReadAsync(domain, epoch, ct) is { } recorded) return recorded;
        var merged = new GapQuantileSketch(options.SketchRelativeAccuracy, long.MaxValue);
        await using (var select = db.CreateCommand("select counts from sequence_gap_sketches where consumer_group = $1 and domain = $2 order by partition"))
        {
            select.Parameters.AddWithValue(consumerGroup);
            select.Parameters.AddWithValue(domain);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) merged.Merge(reader.GetFieldValue<long[]>(0));
        }
        var computed = compute(merged);
        await using (var insert = db.CreateCommand(
            "insert into sequence_thresholds (consumer_group, domain, epoch, threshold_ms, gaps, data_driven) values ($1, $2, $3, $4, $5, $6) on conflict do nothing"))
        {
            insert.Parameters.AddWithValue(consumerGroup);
            insert.Parameters.AddWithValue(domain);
            insert.Parameters.AddWithValue(epoch);
            insert.Parameters.AddWithValue(computed.ThresholdMs);
            insert.Parameters.AddWithValue(computed.Gaps);
            insert.Parameters.AddWithValue(computed.DataDriven);
            await insert.ExecuteNonQueryAsync(ct);
        }
        return await ReadAsync(domain, epoch, ct) ?? throw new InvalidOperationException($"T of domain '{domain}', epoch {epoch} was not recorded.");
    }

    private async Task<FrozenThreshold?> ReadAsync(string domain, long epoch, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select threshold_ms, gaps, data_driven from sequence_thresholds where consumer_group = $1 and domain = $2 and epoch = $3");
        cmd.Parameters.AddWithValue(consumerGroup);
        cmd.Parameters.AddWithValue(domain);
        cmd.Parameters.AddWithValue(epoch);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new FrozenThreshold(domain, epoch, reader.GetInt64(0), reader.GetInt64(1), reader.GetBoolean(2)) : null;
    }
}
