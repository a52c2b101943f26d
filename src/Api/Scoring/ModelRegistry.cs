using System.Text.Json;
using Npgsql;

namespace ReaSeq.Api.Scoring;

/// <summary>Reads the CTR model registry (ctr_models, written by the trainer role): the active version and the list.</summary>
public sealed class ModelRegistry(NpgsqlDataSource db)
{
    /// <summary>The active version (the one rankers serve), or null when none is registered.</summary>
    public async Task<RegistryRow?> ActiveAsync(CancellationToken ct)
    {
        var rows = await ListAsync("where status = 'active'", 1, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>Whether a version with this seq is registered (the announcement may overtake the registry's commit).</summary>
    public async Task<bool> HasSeqAsync(long seq, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select exists (select 1 from ctr_models where seq = $1)");
        cmd.Parameters.AddWithValue(seq);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The newest versions first.</summary>
    public Task<IReadOnlyList<RegistryRow>> ListAsync(int limit, CancellationToken ct) => ListAsync("", limit, ct);

    public async Task<byte[]> CheckpointAsync(string version, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select checkpoint from ctr_models where version = $1");
        cmd.Parameters.AddWithValue(version);
        return (byte[]?)await cmd.ExecuteScalarAsync(ct) ?? throw new InvalidOperationException($"CTR model version {version} is not in the registry");
    }

    private async Task<IReadOnlyList<RegistryRow>> ListAsync(string where, int limit, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            $"select version, seq, status, created_at, metrics::text, config::text from ctr_models {where} order by seq desc limit $1");
        cmd.Parameters.AddWithValue(limit);
        var rows = new List<RegistryRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new RegistryRow(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                Parse(reader.GetString(4)), Parse(reader.GetString(5))));
        }
        return rows;
    }

    private static JsonElement Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}
