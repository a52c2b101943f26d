using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using ReaSeq.Models.Ctr;
using ReaSeq.Models.Training;

namespace ReaSeq.Tests.Api;

/// <summary>Real (tiny, untrained) CTR models of the trainer's code, registered the way the trainer registers them.</summary>
public static class TinyCtrModels
{
    public const int Dimension = 16;

    public static CtrModelOptions Options() => new()
    {
        ItemVectorDim = Dimension,
        HiddenDim = 8,
        Heads = 2,
        RetrievalTopK = 4,
        InterestAnchors = 2,
        AttentionHiddenDim = 8,
        SidLevels = 2,
        SidCodebookSize = 16,
        HeadHiddenDims = [16],
        MaxHistory = 64,
    };

    /// <summary>A checkpoint with weights drawn from <paramref name="seed"/> (different seeds score differently).</summary>
    public static byte[] Checkpoint(int seed, CtrModelOptions? options = null)
    {
        Determinism.Seed(seed);
        using var model = CtrModel.Create(options ?? Options());
        return CtrModelCheckpoint.Save(model);
    }

    /// <summary>Registers the checkpoint as the active version (the previous active one is superseded), as CtrRegistry does.</summary>
    public static async Task RegisterAsync(NpgsqlDataSource db, string version, long seq, byte[] checkpoint, double auc = 0.5)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var supersede = new NpgsqlCommand("update ctr_models set status = 'superseded' where status = 'active'", conn, tx))
            await supersede.ExecuteNonQueryAsync();
        await using (var insert = new NpgsqlCommand(
            "insert into ctr_models (version, seq, checkpoint, config, metrics, lineage, status) values ($1, $2, $3, $4, $5, '{}'::jsonb, 'active')", conn, tx))
        {
            insert.Parameters.AddWithValue(version);
            insert.Parameters.AddWithValue(seq);
            insert.Parameters.AddWithValue(checkpoint);
            insert.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(Options()), NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(new Dictionary<string, double> { ["auc"] = auc }), NpgsqlDbType = NpgsqlDbType.Jsonb });
            await insert.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }
}
