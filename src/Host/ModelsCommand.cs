using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Trainer;

namespace ReaSeq.Host;

/// <summary>`reaseq models list` and `reaseq models rollback VERSION`: the CTR model registry (issue 10 §5).</summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var limit = CliParsers.Int("--limit", "Versions to list, newest first", 20, 1, 100_000);
        var list = new Command("list", "List CTR model versions in the registry (newest first) with status and prequential metrics") { limit };
        list.SetAction((r, ct) => ListAsync(r.GetValue(limit), ct));
        var version = new Argument<string>("version") { Description = "Registry version to serve again, e.g. ctr-000012-1a2b3c4d5e", HelpName = "VERSION" };
        var rollback = new Command("rollback",
            "Make an earlier CTR model version the active one (newer versions become rolled_back) and announce it on reaseq.ctr-models " +
            "when Kafka:BootstrapServers names a cluster; the running trainer continues from it") { version };
        rollback.SetAction((r, ct) => RollbackAsync(r.GetValue(version)!, ct));
        return new Command("models", "CTR model registry tools") { list, rollback };
    }

    public static async Task<int> ListAsync(int limit, CancellationToken ct)
    {
        await using var db = Open(out _);
        var rows = await new CtrRegistry(db).ListAsync(limit, ct);
        if (rows.Count == 0)
        {
            Console.WriteLine("no CTR model versions yet; is the trainer role running against this database?");
            return 0;
        }
        foreach (var row in rows)
        {
            var metrics = JsonSerializer.Deserialize<Dictionary<string, double>>(row.Metrics) ?? [];
            string Metric(string name) => metrics.TryGetValue(name, out var v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "-";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Version,-26} {row.Status,-12} {row.CreatedAt:u}  AUC {Metric("auc")}  GAUC {Metric("gauc")}  sparse GAUC {Metric("sparse_gauc")}  active GAUC {Metric("active_gauc")}"));
        }
        return 0;
    }

    public static async Task<int> RollbackAsync(string version, CancellationToken ct)
    {
        await using var db = Open(out var config);
        CtrModelRecord row;
        try
        {
            row = await new CtrRegistry(db).RollbackAsync(version, ct);
        }
        catch (ArgumentException e)
        {
            throw new UserException(e.Message);
        }
        Console.WriteLine($"active CTR model: {row.Version} (seq {row.Seq}); newer versions are rolled_back");
        var kafka = config.GetSection(KafkaOptions.Section).Get<KafkaOptions>() ?? new KafkaOptions();
        if (string.IsNullOrWhiteSpace(kafka.BootstrapServers))
        {
            Console.WriteLine("Kafka:BootstrapServers is not set, so no ModelVersion was announced; rankers reading the registry's active row see it now.");
            return 0;
        }
        using var supplier = new KafkaClientSupplier(Options.Create(kafka), NullLogger<KafkaClientSupplier>.Instance);
        using var producer = new ContractProducer(supplier, "reaseq-models");
        var metrics = JsonSerializer.Deserialize<Dictionary<string, double>>(row.Metrics) ?? [];
        producer.Produce(Topics.CtrModels, CtrTrainerProcessor.ModelName, new ModelVersion
        {
            ModelName = CtrTrainerProcessor.ModelName,
            Version = row.Seq,
            Metrics = new Dictionary<string, double>(metrics, StringComparer.Ordinal),
            CheckpointRef = row.Version,
            TsMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        });
        producer.Flush(ct);
        if (producer.Failed > 0) throw new UserException("the registry changed but the ModelVersion announcement was not delivered; rankers reading the registry see the change");
        Console.WriteLine($"announced on {Topics.CtrModels}");
        return 0;
    }

    private static NpgsqlDataSource Open(out IConfiguration config)
    {
        config = Cli.CreateBuilder().Configuration;
        var connectionString = config[$"{PostgresOptions.Section}:{nameof(PostgresOptions.ConnectionString)}"];
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new UserException("Postgres:ConnectionString is not set (REASEQ__Postgres__ConnectionString)");
        return NpgsqlDataSource.Create(connectionString);
    }
}
