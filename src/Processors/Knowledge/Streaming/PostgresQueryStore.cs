using Npgsql;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>Table <c>category_queries</c>: recency-weighted search queries per primary category, bounded per category.</summary>
public sealed class PostgresQueryStore(NpgsqlDataSource db, KnowledgeQueryOptions options)
{
    public Task<IReadOnlyList<PartitionOffset>> LoadOffsetsAsync(string group, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct) =>
        PgOffsets.LoadAsync(db, group, partitions, ct);

    public Task<IReadOnlyList<PartitionOffset>> ClaimOffsetsAsync(string group, IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct) =>
        PgOffsets.ClaimOffsetsAsync(db, group, partitions, ct);

    /// <summary>
    /// Adds one batch of occurrences (category, normalised query, ts) and the offsets that produced them in one transaction,
    /// then prunes each touched category to <see cref="KnowledgeQueryOptions.MaxPerCategory"/> queries.
    /// </summary>
    public async Task CommitAsync(string group, IReadOnlyList<(string Category, string Query, long TsMs)> occurrences,
        IReadOnlyList<PartitionOffset> offsets, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Occurrences are folded in one at a time in SQL (one statement per batch): the new reference time is the later
        // of the stored and the incoming one, and both sides decay to it.
        await using (var upsert = new NpgsqlCommand(
            "insert into category_queries as q (category, query, weight, last_ts_ms) " +
            "select c, t, sum(power(2, -(m - ts) / $4)), m from (" +
            "  select c, t, ts, max(ts) over (partition by c, t) m from unnest($1::text[], $2::text[], $3::bigint[]) x(c, t, ts)) y " +
            "group by c, t, m " +
            "on conflict (category, query) do update set " +
            "weight = q.weight * power(2, -(greatest(q.last_ts_ms, excluded.last_ts_ms) - q.last_ts_ms) / $4) " +
            "       + excluded.weight * power(2, -(greatest(q.last_ts_ms, excluded.last_ts_ms) - excluded.last_ts_ms) / $4), " +
            "last_ts_ms = greatest(q.last_ts_ms, excluded.last_ts_ms)", conn, tx))
        {
            upsert.Parameters.AddWithValue(occurrences.Select(o => o.Category).ToArray());
            upsert.Parameters.AddWithValue(occurrences.Select(o => o.Query).ToArray());
            upsert.Parameters.AddWithValue(occurrences.Select(o => o.TsMs).ToArray());
            upsert.Parameters.AddWithValue(options.HalfLifeMs);
            await upsert.ExecuteNonQueryAsync(ct);
        }
        await using (var prune = new NpgsqlCommand(
            "delete from category_queries d using (" +
            "  select category, query, row_number() over (partition by category order by w desc, query) as position from (" +
            "    select category, query, " + DecayedWeight + " as w from category_queries where category = any($1)) x) r " +
            "where d.category = r.category and d.query = r.query and r.position > $2", conn, tx))
        {
            prune.Parameters.AddWithValue(occurrences.Select(o => o.Category).Distinct(StringComparer.Ordinal).ToArray());
            prune.Parameters.AddWithValue(options.MaxPerCategory);
            prune.Parameters.AddWithValue(options.HalfLifeMs);
            await prune.ExecuteNonQueryAsync(ct);
        }
        await PgOffsets.SaveAsync(conn, tx, group, offsets, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The heaviest queries of a primary category, weights decayed to the category's newest query.</summary>
    public async Task<IReadOnlyList<string>> TopQueriesAsync(string primaryCategory, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "select query from category_queries where category = $1 order by " + DecayedWeight + " desc, query limit $2");
        cmd.Parameters.AddWithValue(primaryCategory);
        cmd.Parameters.AddWithValue(options.MaxPerCorpus);
        cmd.Parameters.AddWithValue(options.HalfLifeMs);
        var result = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) result.Add(reader.GetString(0));
        return result;
    }

    /// <summary>A row's weight referred to its category's newest occurrence, so rows of one category compare fairly ($3: half-life).</summary>
    private const string DecayedWeight =
        "weight * power(2, -((max(last_ts_ms) over (partition by category)) - last_ts_ms) / $3)";
}
