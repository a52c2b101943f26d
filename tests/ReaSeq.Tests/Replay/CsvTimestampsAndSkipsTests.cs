using ReaSeq.Ingestors.Replay;
using ReaSeq.Ingestors.Replay.Csv;

namespace ReaSeq.Tests.Replay;

/// <summary>Issue 8 F19/F20: date-only and custom timestamp layouts, a bound on skipped rows, an unsorted file's message.</summary>
public sealed class CsvTimestampsAndSkipsTests
{
    private static readonly long Nov8 = new DateTimeOffset(2016, 11, 8, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Theory]
    [InlineData("2016-11-08")]
    [InlineData(" 2016-11-08 ")]
    [InlineData("2016-11-08T00:00:00Z")]
    public void Iso_dates_without_a_time_are_midnight_utc(string text)
    {
        Assert.True(TimestampParser.TryParseUnixMs(text, out var ms));
        Assert.Equal(Nov8, ms);
    }

    [Fact]
    public void Numbers_still_parse_as_unix_time_and_impossible_dates_do_not_parse()
    {
        Assert.True(TimestampParser.TryParseUnixMs("1478563200", out var seconds));
        Assert.Equal(Nov8, seconds);
        Assert.False(TimestampParser.TryParseUnixMs("2016-02-30", out _));
        Assert.False(TimestampParser.TryParseUnixMs("2016-13-01", out _));
    }

    [Fact]
    public void An_exact_format_reads_other_layouts_as_utc_and_only_them()
    {
        Assert.True(TimestampParser.TryParseUnixMs("08/11/2016 13:45", "dd/MM/yyyy HH:mm", out var ms));
        Assert.Equal(Nov8 + (13 * 60 + 45) * 60_000L, ms);
        Assert.False(TimestampParser.TryParseUnixMs("2016-11-08 13:45", "dd/MM/yyyy HH:mm", out _));
    }

    [Fact]
    public void A_file_of_iso_dates_replays_every_row()
    {
        using var dir = new TempDir();
        var path = dir.Write("d.csv", "u,i,t\nu1,a,2016-11-08\nu1,b,2016-11-09\n");
        var source = new CsvInteractionSource(path, "user=u,item=i,ts=t", new CsvReplayOptions { MaxSkippedShare = 0.1 });
        var clicks = source.Read().OfType<ReplayClick>().Select(c => c.Click.TsMs).ToList();
        Assert.Equal([Nov8, Nov8 + 86_400_000L], clicks);
        Assert.Equal(0, source.Stats.SkippedTotal);
    }

    [Fact]
    public void The_timestamp_format_option_applies_to_the_replay()
    {
        using var dir = new TempDir();
        var path = dir.Write("d.csv", "u,i,t\nu1,a,08.11.2016 01:00\nu1,b,08.11.2016 02:00\n");
        var source = new CsvInteractionSource(path, "user=u,item=i,ts=t",
            new CsvReplayOptions { TimestampFormat = "dd.MM.yyyy HH:mm", MaxSkippedShare = 0 });
        Assert.Equal([Nov8 + 3_600_000L, Nov8 + 7_200_000L], source.Read().OfType<ReplayClick>().Select(c => c.Click.TsMs));
    }

    [Fact]
    public void Too_many_unreadable_rows_fail_the_replay_with_a_message_naming_the_fix()
    {
        using var dir = new TempDir();
        var rows = string.Concat(Enumerable.Range(0, 10).Select(i => i < 8 ? $"u1,i{i},2016|11|08\n" : $"u1,i{i},2016-11-08\n"));
        var path = dir.Write("d.csv", "u,i,t\n" + rows);
        var source = new CsvInteractionSource(path, "user=u,item=i,ts=t", new CsvReplayOptions { MaxSkippedShare = 0.1 });
        var error = Assert.Throws<CsvFormatException>(() => source.Read().ToList());
        Assert.Contains("8 of 10 rows", error.Message);
        Assert.Contains("bad_timestamp 8", error.Message);
        Assert.Contains("--ts-format", error.Message);
        Assert.Contains("--max-skipped-share", error.Message);

        // Within the bound: the bad rows are skipped and counted, the replay succeeds.
        var lenient = new CsvInteractionSource(path, "user=u,item=i,ts=t", new CsvReplayOptions { MaxSkippedShare = 0.9 });
        Assert.Equal(2, lenient.Read().OfType<ReplayClick>().Count());
        Assert.Equal(8, lenient.Stats.SkippedFor("bad_timestamp"));
    }

    [Fact]
    public void An_unsorted_file_names_the_line_and_the_sort_option()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.csv", "u,i,t\nu1,a,1700000100\nu1,b,1700000000\n");
        var error = Assert.Throws<CsvFormatException>(() => new CsvInteractionSource(path, "user=u,item=i,ts=t").Read().ToList());
        Assert.Contains("is not sorted by time at line 3", error.Message);
        Assert.Contains("add --sort", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
