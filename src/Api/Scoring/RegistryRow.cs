using System.Text.Json;

namespace ReaSeq.Api.Scoring;

/// <summary>One ctr_models row without its checkpoint.</summary>
public sealed record RegistryRow(string Version, long Seq, string Status, DateTimeOffset CreatedAt, JsonElement Metrics, JsonElement Config);
