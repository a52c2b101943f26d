using ReaSeq.Contracts;

namespace ReaSeq.Ingestors.Replay;

/// <summary>
/// One record a replay source yields, in publication order. <see cref="Key"/> is the Kafka key the contract
/// prescribes for its topic (item id for item updates, user id for clicks and impressions).
/// </summary>
public abstract record ReplayRecord(long TsMs)
{
    public abstract string Key { get; }
}

public sealed record ReplayItem(ItemUpdate Item) : ReplayRecord(Item.TsMs)
{
    public override string Key => Item.ItemId;
}

public sealed record ReplayClick(ClickEvent Click) : ReplayRecord(Click.TsMs)
{
    public override string Key => Click.UserId;
}

public sealed record ReplayImpression(LabeledImpression Impression) : ReplayRecord(Impression.TsMs)
{
    public override string Key => Impression.UserId;
}

/// <summary>
/// A pure, deterministic generator of contract records: the same input and options always yield the same
/// records with the same ids, so a replay can be repeated and deduplicated downstream.
/// </summary>
public interface IReplaySource
{
    string Name { get; }

    /// <summary>Yields records in publication order. Each call starts from the beginning and resets <see cref="Stats"/>.</summary>
    IEnumerable<ReplayRecord> Read(CancellationToken ct = default);

    /// <summary>Live counters of the current (or last) <see cref="Read"/>; safe to read from another thread.</summary>
    ReplaySourceStats Stats { get; }
}
