using Npgsql;
using ReaSeq.Processors.Dllm;
using ReaSeq.Processors.VectorStores;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Trainer;

namespace ReaSeq.Tests.Dllm;

/// <summary>The dllm role's own vector index (no knowledge role in the process), kept in sync with item_knowledge.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class ItemVectorsTests(PostgresFixture postgres)
{
    /// <summary>
    /// The first unforced sync takes in every item_knowledge row, so nearest-item searches cover the whole catalog from
    /// the first batch on. It used to be skipped for good (an overflow in the interval check), and the index then held
    /// only the items of the windows filled so far: the dllm chaos scenario's replays named other nearest items.
    /// </summary>
    [Fact]
    public async Task An_own_index_takes_in_every_item_knowledge_row_at_its_first_sync_and_new_rows_at_later_ones()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        await TrainerWorld.SeedItemsAsync(db, 12);
        await using var vectors = new ItemVectors(new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions { Dimension = TrainerWorld.Dim }), db, ownsStore: true,
            syncIntervalMs: 100);

        await vectors.SyncAsync(force: false, CancellationToken.None);
        Assert.Equal(12, await vectors.Store.CountAsync());

        // Item i0 re-reasoned: it now has i5's vector; the next sync past the interval takes it in.
        await using (var later = db.CreateCommand("update item_knowledge set vector = $1, updated_at = now() where item_id = 'i0'"))
        {
            later.Parameters.AddWithValue(TrainerWorld.Vector(5));
            await later.ExecuteNonQueryAsync();
        }
        await Task.Delay(150);
        await vectors.SyncAsync(force: false, CancellationToken.None);
        Assert.Equal((await vectors.Store.GetAsync("i5"))!.Vector, (await vectors.Store.GetAsync("i0"))!.Vector);
    }
}
