using Microsoft.Extensions.DependencyInjection;
using ReaSeq.Models.Dllm;
using ReaSeq.Processors.Dllm;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Operations;

/// <summary>
/// Issue 12 §4 (ready means the model is loaded) and §3 (freshness per stage), through the roles as `reaseq run`
/// builds them: /readyz of the dllm role waits for a model version, /readyz of the trainer for its weights, and the
/// dllm role's fills show up as click → AugmentedSequence freshness on /metrics.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class ModelReadinessTests(PostgresFixture postgres)
{
    private const int Dim = 16;

    private static readonly Dictionary<string, string?> SmallDllm = new()
    {
        ["Dllm:Model:Layers"] = "1",
        ["Dllm:Model:ModelDim"] = "16",
        ["Dllm:Model:Heads"] = "2",
        ["Dllm:Model:MaxLength"] = "32",
        ["Dllm:Model:ItemVectorDim"] = $"{Dim}",
        ["Dllm:Model:Device"] = "cpu",
        ["Dllm:VectorStore:Dimension"] = $"{Dim}",
        ["Dllm:VectorStore:SyncIntervalMs"] = "200",
        ["Dllm:ModelCheckMs"] = "200",
        ["Dllm:MicroBatch"] = "8",
        ["Dllm:Nearest"] = "2",
        ["Dllm:CpuThreads"] = "1",
        // Versions come from this test, not from the role's own trainer.
        ["Dllm:Trainer:Enabled"] = "false",
        ["Management:ReadinessTimeoutMs"] = "3000",
    };

    [Fact]
    public async Task Dllm_role_is_ready_only_once_a_model_is_loaded_and_its_outputs_record_click_freshness()
    {
        const int users = 8, clicksPerUser = 4;
        await using var host = await ManagedHost.StartAsync(await postgres.CreateDatabaseAsync(), ["ingest", "sequence", "dllm"], SmallDllm);
        var db = host.Host.Services.GetRequiredService<Npgsql.NpgsqlDataSource>();
        await SeedKnowledgeAsync(db, items: users * 3);

        // Everything else answers, but no model version exists yet: not ready, and the reason says so.
        var waiting = await host.WaitForStatusAsync("/readyz", 503, TimeSpan.FromSeconds(30));
        await TestPlatform.WaitUntilAsync(async () =>
        {
            waiting = (await host.GetAsync("/readyz")).Body;
            return waiting.Contains("postgres: ok", StringComparison.Ordinal) && waiting.Contains("kafka: ok", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30), "postgres and kafka ready");
        Assert.Contains("model:dllm: NOT READY (no model version loaded yet", waiting);

        // A version recorded as the deployment's trainer would: the filling job loads it and the role becomes ready.
        var store = host.Host.Services.GetRequiredService<DllmStore>();
        var modelOptions = host.Host.Services.GetRequiredService<LladaTinyOptions>();
        using (var model = LladaTiny.Create(modelOptions))
        using (var bytes = new MemoryStream())
        {
            model.Save(bytes);
            await store.AddVersionAsync(0, 0, new Dictionary<string, double>(), bytes.ToArray(), CancellationToken.None);
        }
        var ready = await host.WaitForStatusAsync("/readyz", 200, TimeSpan.FromSeconds(60));
        Assert.Contains("model:dllm: ok (dllm-v1 loaded)", ready);

        // Clicks → ingest → sequence (SequenceUpdates carry when their click entered) → dllm: one freshness
        // observation per AugmentedSequence, stage augmented_sequence, beside the sequence role's sequence_update.
        host.PublishClicks(users, clicksPerUser);
        string metrics = "";
        await TestPlatform.WaitUntilAsync(async () =>
        {
            metrics = (await host.GetAsync("/metrics")).Body;
            return MetricsEndpointTests.Value(metrics, "reaseq_records_out_total", "topic=\"reaseq.augmented-sequences\"") >= users;
        }, TimeSpan.FromSeconds(90), "augmented sequences delivered");
        await TestPlatform.WaitUntilAsync(async () =>
        {
            metrics = (await host.GetAsync("/metrics")).Body;
            return MetricsEndpointTests.Value(metrics, "reaseq_freshness_seconds_count", "stage=\"augmented_sequence\"") >= users;
        }, TimeSpan.FromSeconds(30), "augmented_sequence freshness observations");
        double published = MetricsEndpointTests.Value(metrics, "reaseq_records_out_total", "topic=\"reaseq.augmented-sequences\"")!.Value;
        double observed = MetricsEndpointTests.Value(metrics, "reaseq_freshness_seconds_count", "stage=\"augmented_sequence\"")!.Value;
        Assert.InRange(observed, users, published);
        Assert.Contains("reaseq_freshness_seconds_bucket{", metrics);
        Assert.True(MetricsEndpointTests.Value(metrics, "reaseq_freshness_seconds_sum", "stage=\"augmented_sequence\"") > 0);
        // A click reaches its AugmentedSequence no sooner than its SequenceUpdate.
        Assert.True(MetricsEndpointTests.Value(metrics, "reaseq_freshness_seconds_count", "stage=\"sequence_update\"") >= users);
    }

    [Fact]
    public async Task Trainer_role_is_ready_once_the_leader_has_its_weights()
    {
        await using var host = await ManagedHost.StartAsync(await postgres.CreateDatabaseAsync(), ["trainer"],
            new Dictionary<string, string?> { ["Trainer:LeaderRetryMs"] = "200" });
        var ready = await host.WaitForStatusAsync("/readyz", 200, TimeSpan.FromSeconds(60));
        // No version in the registry yet: the leader initialised fresh weights.
        Assert.Contains("model:ctr: ok (leader, weights from fresh initialisation)", ready);
    }

    /// <summary>Knowledge vectors for items i0..i{items-1}, as the knowledge role leaves them.</summary>
    private static async Task SeedKnowledgeAsync(Npgsql.NpgsqlDataSource db, int items)
    {
        for (int i = 0; i < items; i++)
        {
            var random = new Random(i);
            await using var cmd = db.CreateCommand(
                "insert into item_knowledge (item_id, content_hash, category, category_assigned, demand, attribute, vector, semantic_id, " +
                "semantic_id_version, taxonomy_version, prompt_version, backend, encoder, ts_ms) " +
                "values ($1, 'h', 'c', false, '[]'::jsonb, '[]'::jsonb, $2, $3, 'sid-test', 't', 'p', 'b', 'e', 1)");
            cmd.Parameters.AddWithValue($"i{i}");
            cmd.Parameters.AddWithValue(Enumerable.Range(0, Dim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray());
            cmd.Parameters.AddWithValue(new[] { i % 2, i % 7 });
            await cmd.ExecuteNonQueryAsync();
        }
    }
}
