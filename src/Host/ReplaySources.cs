using ReaSeq.Ingestors.Replay;
using ReaSeq.Ingestors.Replay.Csv;
using ReaSeq.Ingestors.Replay.OnlineRetail;
using ReaSeq.Ingestors.Replay.Synthetic;

namespace ReaSeq.Host;

/// <summary>Turns replay settings into a source; a missing file or mapping is the user's to fix (exit code 2).</summary>
public static class ReplaySources
{
    public static IReplaySource? Create(ReplaySettings s)
    {
        switch (s.Kind)
        {
            case ReplayKind.None:
                return null;
            case ReplayKind.Auto:
                return Create(s with { Kind = OnlineRetailData.FindDirectory() is not null ? ReplayKind.OnlineRetail : ReplayKind.Synthetic });
            case ReplayKind.OnlineRetail:
                {
                    var path = s.Path?.FullName ?? (OnlineRetailData.FindDirectory() is { } dir
                        ? System.IO.Path.Combine(dir, s.Sample ? OnlineRetailData.SampleFileName : OnlineRetailData.FullFileName)
                        : throw new UserException($"Online Retail not found: give --path FILE or set {OnlineRetailData.EnvironmentVariable} to its folder"));
                    if (!File.Exists(path)) throw new UserException($"{path} does not exist: give --path FILE or set {OnlineRetailData.EnvironmentVariable}");
                    var options = new OnlineRetailOptions { NegativesPerPurchase = s.Negatives ?? 4 };
                    if (s.Seed is { } seed) options.Seed = seed;
                    return new OnlineRetailSource(path, options);
                }
            case ReplayKind.Synthetic:
                {
                    var options = new SyntheticOptions { Users = s.Users, Items = s.Items, Days = s.Days, EventsPerUser = s.EventsPerUser };
                    if (s.OffPlatform is { } share) options.OffPlatformShare = share;
                    if (s.Seed is { } seed) options.Seed = seed;
                    var groundTruth = s.GroundTruth ?? System.IO.Path.Combine(".state", "synthetic-ground-truth.jsonl");
                    Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(groundTruth))!);
                    return new SyntheticSource(SyntheticWorld.Create(options), groundTruth);
                }
            case ReplayKind.Csv:
                {
                    var path = s.Path ?? throw new UserException("a csv replay needs --path FILE");
                    var map = s.Map ?? throw new UserException("a csv replay needs --map user=COL,item=COL,ts=COL,...");
                    var options = new CsvReplayOptions
                    {
                        NegativesPerPositive = s.Negatives ?? 0,
                        SortByTime = s.Sort,
                        TimestampFormat = s.TimestampFormat,
                        MaxSkippedShare = s.MaxSkippedShare,
                    };
                    if (s.Seed is { } seed) options.Seed = seed;
                    return new CsvInteractionSource(path.FullName, map, options);
                }
            default:
                throw new UserException($"unknown replay source {s.Kind}; {ReplayOptionSet.SourcesHelp}");
        }
    }
}
