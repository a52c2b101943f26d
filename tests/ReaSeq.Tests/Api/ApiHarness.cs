using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NpgsqlTypes;
using ReaSeq.Api;
using ReaSeq.Api.Features;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Api;

/// <summary>
/// The api role as `reaseq run --roles api` composes it (Cli.BuildHost), on a real PostgreSQL and the embedded broker,
/// listening on a free loopback port; helpers seed the tables the other roles would have written.
/// </summary>
public sealed class ApiHarness : IAsyncDisposable
{
    public const string Key = "test-key-0123456789abcdef";
    public const string OtherKey = "other-key-0123456789abcdef";

    private ApiHarness(TestPlatform platform, IHost host)
    {
        Platform = platform;
        Host = host;
        Address = host.Services.GetRequiredService<ApiServer>().Address!;
        Http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public TestPlatform Platform { get; }
    public IHost Host { get; }
    public Uri Address { get; }
    public HttpClient Http { get; }

    public T Service<T>() where T : notnull => Host.Services.GetRequiredService<T>();

    public static async Task<ApiHarness> StartAsync(PostgresFixture postgres, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var platform = await TestPlatform.StartAsync(postgres);
        var config = new Dictionary<string, string?>
        {
            ["Postgres:ConnectionString"] = platform.ConnectionString,
            ["Kafka:BootstrapServers"] = platform.Broker.BootstrapServers,
            ["Kafka:MaxBatchWaitMs"] = "10",
            ["Api:Url"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) config[k] = v;
        var host = ReaSeq.Host.Cli.BuildHost(["api"], c => c.AddInMemoryCollection(config));
        try
        {
            await host.StartAsync();
            await host.Services.GetRequiredService<FeatureTopicListener>().WhenListening.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            host.Dispose();
            await platform.DisposeAsync();
            throw;
        }
        return new ApiHarness(platform, host);
    }

    public async Task AddItemAsync(string itemId, string category, double? price, float[]? vector = null, int[]? semanticId = null, long tsMs = 1_000)
    {
        await using (var cmd = Platform.Db.CreateCommand(
            "insert into items (item_id, title, description, category_path, attributes, price, ts_ms) values ($1, $2, '', $3, '{}'::jsonb, $4, $5)"))
        {
            cmd.Parameters.AddWithValue(itemId);
            cmd.Parameters.AddWithValue("title of " + itemId);
            cmd.Parameters.AddWithValue(new[] { category });
            cmd.Parameters.AddWithValue(NpgsqlDbType.Double, (object?)price ?? DBNull.Value);
            cmd.Parameters.AddWithValue(tsMs);
            await cmd.ExecuteNonQueryAsync();
        }
        if (vector is not null) await AddKnowledgeAsync(itemId, category, vector, semanticId ?? [1, 2], tsMs);
    }

    public async Task AddKnowledgeAsync(string itemId, string category, float[] vector, int[] semanticId, long tsMs)
    {
        var demand = JsonSerializer.Serialize(new[] { new { Label = "use", Keywords = new[] { "gift" }, Evidence = new[] { "a gift for " + itemId }, Analysis = "bought as a gift" } });
        var attribute = JsonSerializer.Serialize(new[] { new { Label = "colour", Keywords = new[] { "red" }, Evidence = new[] { "red" }, Analysis = "colour named in the title" } });
        await using var cmd = Platform.Db.CreateCommand(
            "insert into item_knowledge (item_id, content_hash, category, category_assigned, demand, attribute, vector, semantic_id, semantic_id_version, " +
            "taxonomy_version, prompt_version, backend, encoder, ts_ms) values ($1, 'h', $2, false, $3::jsonb, $4::jsonb, $5, $6, 'sid-v1', 'tax-v1', 'p-v1', 'extractive', 'minilm', $7) " +
            "on conflict (item_id) do update set vector = excluded.vector, semantic_id = excluded.semantic_id, ts_ms = excluded.ts_ms");
        cmd.Parameters.AddWithValue(itemId);
        cmd.Parameters.AddWithValue(category);
        cmd.Parameters.AddWithValue(demand);
        cmd.Parameters.AddWithValue(attribute);
        cmd.Parameters.AddWithValue(vector);
        cmd.Parameters.AddWithValue(semanticId);
        cmd.Parameters.AddWithValue(tsMs);
        await cmd.ExecuteNonQueryAsync();
        // As the knowledge role does: the row, and the record that tells the API's cache and similarity index.
        Publish(ReaSeq.Contracts.Topics.ItemKnowledge, itemId, new ReaSeq.Contracts.ItemKnowledge
        {
            ItemId = itemId,
            Category = category,
            Vector = [.. vector],
            SemanticId = [.. semanticId],
            TsMs = tsMs,
        });
    }

    public async Task AddClicksAsync(string userId, IReadOnlyList<string> items, long firstSeq = 0, long firstTsMs = 1_000_000)
    {
        await using var cmd = Platform.Db.CreateCommand(
            "insert into user_clicks (user_id, seq, event_id, item_id, ts_ms, action, kafka_partition) " +
            "select $1, s, 'e' || s, i, $4 + s * 1000, 0, 0 from unnest($2::text[], $3::bigint[]) x(i, s)");
        cmd.Parameters.AddWithValue(userId);
        cmd.Parameters.AddWithValue(items.ToArray());
        cmd.Parameters.AddWithValue(Enumerable.Range(0, items.Count).Select(i => firstSeq + i).ToArray());
        cmd.Parameters.AddWithValue(firstTsMs);
        await cmd.ExecuteNonQueryAsync();
    }

    public void Publish<T>(string topic, string key, T record) where T : Avro.Specific.ISpecificRecord, new()
    {
        Platform.Producer.Produce(topic, key, record);
        Platform.Producer.Flush();
    }

    /// <summary>A deterministic unit-length vector that points mostly along axis <paramref name="axis"/>.</summary>
    public static float[] Vector(int axis, int dimension = 16, float spread = 0.1f)
    {
        var v = new float[dimension];
        for (var i = 0; i < dimension; i++) v[i] = spread * (((i * 7 + axis * 3) % 5) - 2) / 2f;
        v[axis % dimension] = 1f;
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        for (var i = 0; i < dimension; i++) v[i] /= norm;
        return v;
    }

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            try { await Host.StopAsync(cts.Token); } catch (OperationCanceledException) { }
        }
        Host.Dispose();
        await Platform.DisposeAsync();
    }
}
