using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Stores;
using ReaSeq.Ingestors.Ingest;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Knowledge.Streaming;

namespace ReaSeq.Host;

/// <summary>`reaseq knowledge show ITEM`: the stored knowledge of one item, readable.</summary>
public static class KnowledgeCommand
{
    public const string UsageLine = "reaseq knowledge show ITEM [--neighbours 5]";

    public static Command Create()
    {
        var item = new Argument<string>("item") { Description = "Item id", HelpName = "ITEM" };
        var neighbours = CliParsers.Int("--neighbours", "Nearest items to list from the vector store", 5, 0, 1_000);
        var show = new Command("show", "Print the stored knowledge of one item (dimensions, evidence, semantic id, nearest items)") { item, neighbours };
        show.SetAction((r, ct) => ShowAsync(r.GetValue(item)!, r.GetValue(neighbours), ct));
        return new Command("knowledge", "Knowledge processor tools") { show };
    }

    public static async Task<int> ShowAsync(string itemId, int limit, CancellationToken ct)
    {
        var config = Cli.CreateBuilder().Configuration;
        var connectionString = config[$"{PostgresOptions.Section}:{nameof(PostgresOptions.ConnectionString)}"];
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new UserException("Postgres:ConnectionString is not set (REASEQ__Postgres__ConnectionString)");
        await using var db = NpgsqlDataSource.Create(connectionString);
        var knowledge = await new PostgresKnowledgeStore(db).GetAsync(itemId, ct)
            ?? throw new UserException($"no knowledge stored for item '{itemId}'; is the knowledge role running against this database?");
        var catalogRow = await new PostgresCatalogStore(db).GetAsync(itemId, ct);

        IReadOnlyList<VectorHit>? neighbours = null;
        string? vectorNote = null;
        var vectorOptions = (config.GetSection(KnowledgeVectorStoreOptions.Section).Get<KnowledgeVectorStoreOptions>() ?? new KnowledgeVectorStoreOptions())
            .ForDeployment(await new PostgresModelStore(db).DeploymentIdAsync(ct));
        try
        {
            if (vectorOptions.Backend.Trim().ToLowerInvariant() == KnowledgeVectorStoreOptions.Embedded && !File.Exists(vectorOptions.Path))
            {
                vectorNote = $"no embedded index at {vectorOptions.Path}";
            }
            else
            {
                vectorOptions.FlushIntervalSeconds = 3_600; // read only: nothing changes, so nothing is written back
                await using var store = KnowledgeServiceCollectionExtensions.CreateVectorStore(vectorOptions, knowledge.Vector.Count, NullLoggerFactory.Instance);
                neighbours = (await store.SearchAsync(knowledge.Vector.ToArray(), limit + 1, cancellationToken: ct))
                    .Where(h => h.Id != itemId).Take(limit).ToList();
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or InvalidOperationException or Grpc.Core.RpcException)
        {
            vectorNote = $"vector store unavailable: {e.Message}";
        }
        Print(Console.Out, knowledge, catalogRow, neighbours, vectorNote);
        return 0;
    }

    public static void Print(TextWriter output, ItemKnowledge knowledge, ItemUpdate? catalogRow, IReadOnlyList<VectorHit>? neighbours, string? vectorNote)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"== item {knowledge.ItemId}");
        output.WriteLine($"   title            {catalogRow?.Title ?? "(not in the catalog)"}");
        if (catalogRow is { Description.Length: > 0 }) output.WriteLine($"   description      {catalogRow.Description}");
        if (catalogRow is { Attributes.Count: > 0 })
            output.WriteLine($"   attributes       {string.Join("; ", catalogRow.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}"))}");
        output.WriteLine($"   category         {knowledge.Category}{(knowledge.CategoryAssigned ? "  (assigned by classification)" : "")}");
        output.WriteLine($"   content hash     {knowledge.ContentHash}");
        output.WriteLine($"   backend          {knowledge.Backend}, prompts {knowledge.PromptVersion}, taxonomy {knowledge.TaxonomyVersion}, encoder {knowledge.Encoder}");
        output.WriteLine(knowledge.SemanticIdVersion.Length == 0
            ? "   semantic id      (none yet: no model trained)"
            : $"   semantic id      {string.Join('-', knowledge.SemanticId)}  ({knowledge.SemanticIdVersion})");
        foreach (var (name, dimensions) in new[] { ("demand", knowledge.Demand), ("attribute", knowledge.Attribute) })
        {
            output.WriteLine($"   -- {name} perspective ({dimensions.Count} dimensions)");
            foreach (var d in dimensions)
            {
                output.WriteLine($"      {d.Label}");
                output.WriteLine($"         keywords  {string.Join(", ", d.Keywords)}");
                output.WriteLine($"         evidence  {string.Join(" | ", d.Evidence.Select(e => $"\"{e}\""))}");
                output.WriteLine($"         analysis  {d.Analysis}");
            }
        }
        double norm = Math.Sqrt(knowledge.Vector.Sum(x => (double)x * x));
        output.WriteLine(string.Create(inv, $"   vector           {knowledge.Vector.Count} dims, norm {norm:F4}, first [{string.Join(", ", knowledge.Vector.Take(6).Select(x => x.ToString("F4", inv)))}, …]"));
        if (neighbours is null)
        {
            output.WriteLine($"   nearest items    ({vectorNote})");
        }
        else
        {
            output.WriteLine($"   nearest items    ({neighbours.Count})");
            foreach (var hit in neighbours)
                output.WriteLine(string.Create(inv, $"      {hit.Score,7:F4}  {hit.Id,-24} {hit.Payload.GetValueOrDefault("category", "")}"));
        }
    }
}
