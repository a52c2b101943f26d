using ReaSeq.Contracts;

namespace ReaSeq.Ingestors.Replay.Csv;

/// <summary>How an interaction CSV becomes contract records.</summary>
public sealed class CsvReplayOptions
{
    /// <summary>Source name shown in progress and stats.</summary>
    public string Name { get; set; } = "csv";

    /// <summary>Prefix of generated event ids (impression ids extend the event id).</summary>
    public string EventIdPrefix { get; set; } = "csv-";

    /// <summary>Action of every click when no action column is mapped.</summary>
    public ClickAction DefaultAction { get; set; } = ClickAction.CLICK;

    /// <summary>Sampled negative impressions per click; 0 emits no impressions at all.</summary>
    public int NegativesPerPositive { get; set; }

    /// <summary>Seed of the negative sampler.</summary>
    public ulong Seed { get; set; } = 1;

    /// <summary>Publish an item update when only the price changed (title changes always publish one).</summary>
    public bool ItemUpdateOnPriceChange { get; set; } = true;

    /// <summary>Separator between levels of a mapped category column ("Home > Kitchen > Mugs").</summary>
    public char CategorySeparator { get; set; } = '>';

    /// <summary>
    /// False (default): stream and fail on a row older than its predecessor, naming the line. True: load the
    /// filtered rows, stable-sort them by time, then replay (memory grows with the file).
    /// </summary>
    public bool SortByTime { get; set; }

    /// <summary>
    /// An exact .NET date and time format of the timestamp column (e.g. <c>dd/MM/yyyy HH:mm</c>); null accepts ISO 8601
    /// date-times, ISO dates and Unix seconds/milliseconds (see <see cref="TimestampParser"/>). No offset means UTC.
    /// </summary>
    public string? TimestampFormat { get; set; }

    /// <summary>
    /// Largest share of data rows that may be skipped as unreadable (malformed, missing user/item, bad timestamp, price
    /// or action) before the replay fails: a wrong mapping or timestamp format shows up as an error, not as an empty
    /// replay. Rows skipped by data-set rules (<see cref="ICsvRowRules"/>) do not count. Null: no limit (the command
    /// line's default is 0.1).
    /// </summary>
    public double? MaxSkippedShare { get; set; }

    public void Validate()
    {
        if (NegativesPerPositive is < 0 or > 1000)
            throw new ArgumentOutOfRangeException(nameof(NegativesPerPositive), NegativesPerPositive, "must be between 0 and 1000");
        if (string.IsNullOrWhiteSpace(Name)) throw new ArgumentException("Name must not be empty", nameof(Name));
        if (MaxSkippedShare is { } share && !(share is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(MaxSkippedShare), MaxSkippedShare, "must be between 0 and 1");
        if (TimestampFormat is { Length: 0 }) throw new ArgumentException("TimestampFormat must not be empty", nameof(TimestampFormat));
        if (char.IsWhiteSpace(CategorySeparator)) throw new ArgumentException("CategorySeparator must not be white space", nameof(CategorySeparator));
    }
}
