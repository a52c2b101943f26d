namespace ReaSeq.Ingestors.Streaming.Operations;

/// <summary>The lag of one partition a consumer of <paramref name="Group"/> owns.</summary>
public sealed record PartitionLag(string Group, string Topic, int Partition, long Lag);
