using System.CommandLine;
using ReaSeq.Ingestors.Replay.Csv;

namespace ReaSeq.Host;

/// <summary>
/// The replay options of `run`, `replay` and `sequence stats` (one instance per command: System.CommandLine options
/// belong to one parent).
/// </summary>
public sealed class ReplayOptionSet
{
    public const string SourcesHelp =
        "online-retail [--path FILE] [--sample] [--negatives 4] [--seed N]; " +
        "synthetic [--users 1000] [--items 2000] [--days 30] [--events-per-user 50] [--off-platform 0.2] [--seed 7] [--ground-truth FILE]; " +
        "csv --path FILE --map user=COL,item=COL,ts=COL,... [--negatives 0] [--sort] [--ts-format FORMAT] [--max-skipped-share 0.1]; " +
        "all: [--speed max|1000x]";

    public Option<FileInfo?> Path { get; } = CliParsers.ExistingFile("--path",
        "Input file: the Online Retail CSV (default ../shared/data/online-retail/online_retail.csv.gz or REASEQ_ONLINE_RETAIL_DIR) or the interaction CSV of a csv replay (plain or gzip)");
    public Option<bool> Sample { get; } = new("--sample") { Description = "Online Retail: replay the 2,000-row sample instead of the whole file" };
    public Option<int?> Negatives { get; } = CliParsers.OptionalInt("--negatives",
        "Sampled negative impressions per purchase/click (default 4 for online-retail, 0 for csv)", 0, 1_000);
    public Option<ulong?> Seed { get; } = new("--seed") { Description = "Seed of the negative sampler or the synthetic world", HelpName = "N" };
    public Option<double?> Speed { get; } = CliParsers.Speed();
    public Option<int> Users { get; } = CliParsers.Int("--users", "Synthetic: users", 1_000, 1);
    public Option<int> Items { get; } = CliParsers.Int("--items", "Synthetic: items", 2_000, 1);
    public Option<int> Days { get; } = CliParsers.Int("--days", "Synthetic: days of activity", 30, 1);
    public Option<int> EventsPerUser { get; } = CliParsers.Int("--events-per-user", "Synthetic: events per user", 50, 1);
    public Option<double?> OffPlatform { get; } = CliParsers.OptionalDouble("--off-platform",
        "Synthetic: share of behaviour withheld from the stream, written as ground truth (default 0.2)", 0, 1);
    public Option<string?> GroundTruth { get; } = new("--ground-truth")
    {
        Description = "Synthetic: where the off-platform ground truth is written (default .state/synthetic-ground-truth.jsonl)",
        HelpName = "FILE",
    };
    public Option<ColumnMapping?> Map { get; } = CliParsers.Map();
    public Option<bool> Sort { get; } = new("--sort") { Description = "Csv: sort the rows by time in memory (for files not in time order)" };
    public Option<string?> TimestampFormat { get; } = new("--ts-format")
    {
        Description = "Csv: exact .NET date/time format of the ts column, e.g. \"dd/MM/yyyy HH:mm\" (default: ISO 8601 dates and date-times, Unix seconds or ms; no offset means UTC)",
        HelpName = "FORMAT",
    };
    public Option<double> MaxSkippedShare { get; } = CliParsers.Double("--max-skipped-share",
        "Csv: fail when more than this share of rows cannot be read (bad timestamp, missing user/item, malformed row…)", 0.1, 0, 1);

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Path, Sample, Negatives, Seed, Speed, Users, Items, Days, EventsPerUser, OffPlatform, GroundTruth, Map, Sort, TimestampFormat, MaxSkippedShare })
            command.Add(option);
    }

    public ReplaySettings Bind(ParseResult result, ReplayKind kind) => new()
    {
        Kind = kind,
        Path = result.GetValue(Path),
        Sample = result.GetValue(Sample),
        Negatives = result.GetValue(Negatives),
        Seed = result.GetValue(Seed),
        Speed = result.GetValue(Speed) ?? 0,
        Users = result.GetValue(Users),
        Items = result.GetValue(Items),
        Days = result.GetValue(Days),
        EventsPerUser = result.GetValue(EventsPerUser),
        OffPlatform = result.GetValue(OffPlatform),
        GroundTruth = result.GetValue(GroundTruth),
        Map = result.GetValue(Map),
        Sort = result.GetValue(Sort),
        TimestampFormat = result.GetValue(TimestampFormat),
        MaxSkippedShare = result.GetValue(MaxSkippedShare),
    };

    /// <summary>The `--replay SOURCE` option of `run` and `sequence stats`.</summary>
    public static Option<ReplayKind?> KindOption(ReplayKind fallback, bool allowNone) => new("--replay")
    {
        Description = (allowNone ? "Replay a data set into the running roles and summarise: " : "Data set: ") +
                      $"auto (Online Retail when present, else synthetic), online-retail, synthetic, csv{(allowNone ? ", none" : "")} (default {CliParsers.Kebab(fallback.ToString())})",
        HelpName = allowNone ? "auto|online-retail|synthetic|csv|none" : "auto|online-retail|synthetic|csv",
        CustomParser = r =>
        {
            var kind = CliParsers.Enum<ReplayKind>(r, "--replay") ?? fallback;
            if (kind == ReplayKind.None && !allowNone) r.AddError("--replay none has nothing to read here; choose auto, online-retail, synthetic or csv");
            return kind;
        },
    };
}
