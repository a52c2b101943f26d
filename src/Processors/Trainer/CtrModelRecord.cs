namespace ReaSeq.Processors.Trainer;

/// <summary>One registry row without its checkpoint bytes. Config, metrics and lineage are JSON text.</summary>
public sealed record CtrModelRecord(string Version, long Seq, DateTimeOffset CreatedAt, string Status, string Config, string Metrics, string Lineage);
