using Npgsql;
using ReaSeq.Models.SemanticIds;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// The de-duplication level of the semantic ids (TIGER, as in paper Appendix C) kept in <c>semantic_id_dedup</c>: per
/// model version, an item keeps the rank it got when first seen with its RQ-VAE codes, and a new item of a crowded
/// prefix gets the next free rank. Ranks are allocated under a per-version transaction lock, so concurrent processes
/// never hand out one rank twice, and a replayed batch finds the ranks it allocated before.
/// </summary>
public sealed class PostgresSemanticIdDedup(NpgsqlDataSource db)
{
    /// <summary>Ranks of the items (parallel to <paramref name="itemIds"/>) under <paramref name="version"/>.</summary>
    public async Task<int[]> RanksAsync(string version, IReadOnlyList<string> itemIds, IReadOnlyList<int[]> prefixes, CancellationToken ct)
    {
        var ranks = new int[itemIds.Count];
        if (itemIds.Count == 0) return ranks;
        var keys = prefixes.Select(SemanticIdDeduplication.Key).ToArray();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("select pg_advisory_xact_lock(hashtextextended('semantic_id_dedup:' || $1, 0))", conn, tx))
        {
            lockCmd.Parameters.AddWithValue(version);
            await lockCmd.ExecuteScalarAsync(ct);
        }

        var stored = new Dictionary<string, (string Prefix, int Rank)>(StringComparer.Ordinal);
        await using (var read = new NpgsqlCommand("select item_id, prefix, rank from semantic_id_dedup where model_version = $1 and item_id = any($2)", conn, tx))
        {
            read.Parameters.AddWithValue(version);
            read.Parameters.AddWithValue(itemIds.Distinct(StringComparer.Ordinal).ToArray());
            await using var reader = await read.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) stored[reader.GetString(0)] = (reader.GetString(1), reader.GetInt32(2));
        }

        var next = new Dictionary<string, int>(StringComparer.Ordinal);
        await using (var max = new NpgsqlCommand(
            "select prefix, max(rank) from semantic_id_dedup where model_version = $1 and prefix = any($2) group by prefix", conn, tx))
        {
            max.Parameters.AddWithValue(version);
            max.Parameters.AddWithValue(keys.Distinct(StringComparer.Ordinal).ToArray());
            await using var reader = await max.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) next[reader.GetString(0)] = reader.GetInt32(1) + 1;
        }

        // New items in item id order, so the allocation does not depend on the order a batch lists them in.
        var order = Enumerable.Range(0, itemIds.Count).OrderBy(i => itemIds[i], StringComparer.Ordinal).ToList();
        var assigned = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (int i in order)
        {
            string item = itemIds[i], key = keys[i];
            if (assigned.TryGetValue(item, out int already)) { ranks[i] = already; continue; }
            if (stored.TryGetValue(item, out var kept) && kept.Prefix == key)
            {
                ranks[i] = assigned[item] = kept.Rank;
                continue;
            }
            next.TryGetValue(key, out int rank);
            next[key] = rank + 1;
            // An item whose codes changed (new content under the same model) moves to its new prefix.
            await using var upsert = new NpgsqlCommand(
                "insert into semantic_id_dedup (model_version, prefix, item_id, rank) values ($1, $2, $3, $4) " +
                "on conflict (model_version, item_id) do update set prefix = excluded.prefix, rank = excluded.rank", conn, tx);
            upsert.Parameters.AddWithValue(version);
            upsert.Parameters.AddWithValue(key);
            upsert.Parameters.AddWithValue(item);
            upsert.Parameters.AddWithValue(rank);
            await upsert.ExecuteNonQueryAsync(ct);
            ranks[i] = assigned[item] = rank;
        }
        await tx.CommitAsync(ct);
        return ranks;
    }
}
