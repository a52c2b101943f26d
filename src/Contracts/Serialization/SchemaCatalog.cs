using System.Collections.Concurrent;
using Avro;

namespace ReaSeq.Contracts.Serialization;

/// <summary>
/// The Avro schemas shipped with the assembly (schemas/*.avsc): current versions by full name, and every known
/// writer schema (current and history/) by its CRC-64-AVRO fingerprint, so single-object encoded records from
/// older producers can still be resolved.
/// </summary>
public static class SchemaCatalog
{
    private static readonly Lazy<Catalog> Loaded = new(Load);

    /// <summary>The current schema of a named type (records nested in other records included).</summary>
    public static Schema Get(string fullName) =>
        Loaded.Value.ByName.TryGetValue(fullName, out var schema)
            ? schema
            : throw new KeyNotFoundException($"No Avro schema named '{fullName}' is shipped with ReaSeq.Contracts.");

    public static RecordSchema GetRecord(string fullName) => (RecordSchema)Get(fullName);

    /// <summary>Any known writer schema with this fingerprint, or null.</summary>
    public static Schema? FindByFingerprint(long fingerprint) =>
        Loaded.Value.ByFingerprint.TryGetValue(fingerprint, out var schema) ? schema : null;

    /// <summary>Top-level schema files as (resource name, JSON text); used by tests and the schema-registry path.</summary>
    public static IReadOnlyList<(string Resource, string Json)> Files => Loaded.Value.Files;

    public static long Fingerprint(Schema schema) => SchemaNormalization.ParsingFingerprint64(schema);

    private sealed record Catalog(
        IReadOnlyDictionary<string, Schema> ByName,
        IReadOnlyDictionary<long, Schema> ByFingerprint,
        IReadOnlyList<(string, string)> Files);

    private static Catalog Load()
    {
        var assembly = typeof(SchemaCatalog).Assembly;
        var byName = new Dictionary<string, Schema>(StringComparer.Ordinal);
        var byFingerprint = new ConcurrentDictionary<long, Schema>();
        var files = new List<(string, string)>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".avsc", StringComparison.Ordinal)).Order())
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            var json = reader.ReadToEnd();
            var schema = Schema.Parse(json);
            files.Add((resource, json));
            byFingerprint[Fingerprint(schema)] = schema;
            // History files are writer schemas only; the current names come from the top-level files.
            if (!resource.StartsWith("schemas/history/", StringComparison.Ordinal))
                RegisterNamed(schema, byName);
        }
        return new Catalog(byName, byFingerprint, files);
    }

    private static void RegisterNamed(Schema schema, Dictionary<string, Schema> byName)
    {
        switch (schema)
        {
            case RecordSchema record:
                if (!byName.TryAdd(record.Fullname, record)) return;
                foreach (var field in record.Fields) RegisterNamed(field.Schema, byName);
                break;
            case EnumSchema e:
                byName.TryAdd(e.Fullname, e);
                break;
            case ArraySchema a:
                RegisterNamed(a.ItemSchema, byName);
                break;
            case MapSchema m:
                RegisterNamed(m.ValueSchema, byName);
                break;
            case UnionSchema u:
                foreach (var branch in u.Schemas) RegisterNamed(branch, byName);
                break;
        }
    }
}
