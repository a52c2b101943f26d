using System.Text.Json;

namespace ReaSeq.Api.Dto;

/// <summary>One registered version: status (active, superseded, rolled_back), its metrics and configuration as the trainer recorded them.</summary>
public sealed record ModelVersionView(string Version, long Seq, string Status, DateTimeOffset CreatedAt, bool Serving, JsonElement Metrics, JsonElement Config);
