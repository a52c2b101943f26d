namespace ReaSeq.Ingestors.Replay.Synthetic;

/// <summary>Shape of a synthetic world and of its users' behaviour.</summary>
public sealed class SyntheticOptions
{
    public ulong Seed { get; set; } = 7;
    public int Users { get; set; } = 1_000;
    public int Items { get; set; } = 2_000;
    public int Days { get; set; } = 30;

    /// <summary>Mean events (on and off platform) per user; activity is log-normal around it (sparse and active users).</summary>
    public double EventsPerUser { get; set; } = 50;

    /// <summary>Share of sessions that happen off-platform: withheld from the stream, written to the ground truth.</summary>
    public double OffPlatformShare { get; set; } = 0.2;

    public int PrimaryCategories { get; set; } = 8;
    public int SubCategoriesPerPrimary { get; set; } = 4;

    public double EventsPerSession { get; set; } = 6;
    public double InSessionGapSeconds { get; set; } = 90;

    /// <summary>Chance that an event inside a session switches to another interest (switches mostly happen between sessions).</summary>
    public double InSessionSwitchProbability { get; set; } = 0.1;

    public double CartShare { get; set; } = 0.1;
    public double BuyShare { get; set; } = 0.05;

    /// <summary>Negative impressions per on-platform click; 0 emits no impressions.</summary>
    public int NegativesPerClick { get; set; } = 4;

    /// <summary>Event time of the catalog and start of the first sessions (default 2024-01-01 UTC).</summary>
    public long StartMs { get; set; } = 1_704_067_200_000;

    public long EndMs => StartMs + Days * 86_400_000L;

    public void Validate()
    {
        static void Check(bool ok, string name, object value, string rule)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, rule);
        }
        Check(Users is >= 1 and <= 10_000_000, nameof(Users), Users, "must be between 1 and 10,000,000");
        Check(Items >= 1, nameof(Items), Items, "must be at least 1");
        Check(Days is >= 1 and <= 3650, nameof(Days), Days, "must be between 1 and 3650");
        Check(EventsPerUser is >= 1 and <= 1_000_000, nameof(EventsPerUser), EventsPerUser, "must be between 1 and 1,000,000");
        Check(OffPlatformShare is >= 0 and < 1, nameof(OffPlatformShare), OffPlatformShare, "must be in [0, 1)");
        Check(PrimaryCategories is >= 1 and <= 8, nameof(PrimaryCategories), PrimaryCategories, "must be between 1 and 8 (built-in vocabulary)");
        Check(SubCategoriesPerPrimary is >= 1 and <= 4, nameof(SubCategoriesPerPrimary), SubCategoriesPerPrimary, "must be between 1 and 4 (built-in vocabulary)");
        Check(Items >= PrimaryCategories * SubCategoriesPerPrimary, nameof(Items), Items, "must be at least one per sub-category");
        Check(EventsPerSession >= 1, nameof(EventsPerSession), EventsPerSession, "must be at least 1");
        Check(InSessionGapSeconds > 0, nameof(InSessionGapSeconds), InSessionGapSeconds, "must be positive");
        Check(InSessionSwitchProbability is >= 0 and <= 1, nameof(InSessionSwitchProbability), InSessionSwitchProbability, "must be in [0, 1]");
        Check(CartShare >= 0 && BuyShare >= 0 && CartShare + BuyShare <= 1, nameof(CartShare), CartShare, "CartShare + BuyShare must be within [0, 1]");
        Check(NegativesPerClick is >= 0 and <= 1000, nameof(NegativesPerClick), NegativesPerClick, "must be between 0 and 1000");
        Check(StartMs > 0, nameof(StartMs), StartMs, "must be positive");
    }
}
