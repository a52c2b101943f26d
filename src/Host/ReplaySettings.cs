using ReaSeq.Ingestors.Replay.Csv;

namespace ReaSeq.Host;

/// <summary>The typed settings of a replay, as the command line gave them.</summary>
public sealed record ReplaySettings
{
    public ReplayKind Kind { get; init; } = ReplayKind.None;
    public FileInfo? Path { get; init; }
    public bool Sample { get; init; }
    public int? Negatives { get; init; }
    public ulong? Seed { get; init; }
    public double Speed { get; init; }
    public int Users { get; init; } = 1_000;
    public int Items { get; init; } = 2_000;
    public int Days { get; init; } = 30;
    public int EventsPerUser { get; init; } = 50;
    public double? OffPlatform { get; init; }
    public string? GroundTruth { get; init; }
    public ColumnMapping? Map { get; init; }
    public bool Sort { get; init; }
    public string? TimestampFormat { get; init; }
    public double MaxSkippedShare { get; init; } = 0.1;
    public int MaxBacklog { get; init; } = 50_000;

    public string SpeedText => Speed > 0 ? $"{Speed:0.###}x" : "max";
}
