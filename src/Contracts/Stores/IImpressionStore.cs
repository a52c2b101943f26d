namespace ReaSeq.Contracts.Stores;

/// <summary>Labeled impressions kept for the trainer (state of the impression ingestor).</summary>
public interface IImpressionStore : IOffsetStore
{
    /// <summary>Inserts impressions (a repeated impression_id is kept once) and stores offsets; returns how many were new.</summary>
    Task<int> CommitAsync(string consumerGroup, IReadOnlyList<LabeledImpression> impressions, IReadOnlyList<PartitionOffset> offsets, CancellationToken ct);
}
