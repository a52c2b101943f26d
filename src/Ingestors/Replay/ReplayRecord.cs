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
