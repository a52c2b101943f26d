using System.Globalization;

namespace ReaSeq.Ingestors.Replay.Csv;

/// <summary>
/// Event-time parsing for interaction files. Accepts, per value:
/// <list type="bullet">
/// <item><c>YYYY-MM-DD HH:MM[:SS]</c> — taken as UTC (fast path: this is the common export format);</item>
/// <item><c>YYYY-MM-DD</c> (a date only) — midnight UTC;</item>
/// <item>any ISO 8601 date-time, with or without offset (no offset means UTC);</item>
/// <item>Unix epoch numbers: values of magnitude ≥ 10^11 are milliseconds (10^11 s would be year 5138,
/// 10^11 ms is 1973), smaller ones seconds; fractional seconds are kept to the millisecond.</item>
/// </list>
/// With an exact format (a .NET custom date and time format string such as <c>dd/MM/yyyy HH:mm</c>), only that
/// layout is accepted; a value without an offset is taken as UTC.
/// </summary>
public static class TimestampParser
{
    private const double MillisecondThreshold = 1e11;

    private const DateTimeStyles Utc = DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal | DateTimeStyles.AllowWhiteSpaces;

    /// <summary>Parses with an exact .NET format when one is given, else by the rules above.</summary>
    public static bool TryParseUnixMs(string text, string? exactFormat, out long unixMs)
    {
        if (string.IsNullOrEmpty(exactFormat)) return TryParseUnixMs(text, out unixMs);
        unixMs = 0;
        if (!DateTimeOffset.TryParseExact(text.AsSpan().Trim(), exactFormat, CultureInfo.InvariantCulture, Utc, out var parsed)) return false;
        unixMs = parsed.ToUnixTimeMilliseconds();
        return true;
    }

    public static bool TryParseUnixMs(string text, out long unixMs)
    {
        unixMs = 0;
        var s = text.AsSpan().Trim();
        if (s.IsEmpty) return false;
        if (TryParseIsoFast(s, out unixMs)) return true;
        if (TryParseDateOnly(s, out unixMs)) return true;
        if (LooksNumeric(s)
            && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            if (!double.IsFinite(number)) return false;
            var ms = Math.Abs(number) >= MillisecondThreshold ? number : number * 1000.0;
            if (Math.Abs(ms) > 253_402_300_799_000d) return false; // beyond year 9999
            unixMs = (long)Math.Round(ms);
            return true;
        }
        if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, Utc, out var parsed))
        {
            unixMs = parsed.ToUnixTimeMilliseconds();
            return true;
        }
        return false;
    }

    private static bool LooksNumeric(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
            if (!(char.IsAsciiDigit(c) || c is '.' or '-' or '+' or 'e' or 'E')) return false;
        return true;
    }

    // "YYYY-MM-DD" → midnight UTC (digits and dashes only, so it must not be mistaken for a number).
    private static bool TryParseDateOnly(ReadOnlySpan<char> s, out long unixMs)
    {
        unixMs = 0;
        if (s.Length != 10 || s[4] != '-' || s[7] != '-') return false;
        if (!Digits(s[..4], out var year) || !Digits(s.Slice(5, 2), out var month) || !Digits(s.Slice(8, 2), out var day)) return false;
        if (month is < 1 or > 12 || year < 1 || day < 1 || day > DateTime.DaysInMonth(year, month)) return false;
        unixMs = new DateTimeOffset(year, month, day, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        return true;
    }

    // "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" (also with 'T'), no offset → UTC.
    private static bool TryParseIsoFast(ReadOnlySpan<char> s, out long unixMs)
    {
        unixMs = 0;
        if (s.Length is not (16 or 19)) return false;
        if (s[4] != '-' || s[7] != '-' || s[10] is not (' ' or 'T') || s[13] != ':') return false;
        if (s.Length == 19 && s[16] != ':') return false;
        if (!Digits(s[..4], out var year) || !Digits(s.Slice(5, 2), out var month) || !Digits(s.Slice(8, 2), out var day)
            || !Digits(s.Slice(11, 2), out var hour) || !Digits(s.Slice(14, 2), out var minute))
        {
            return false;
        }

        var second = 0;
        if (s.Length == 19 && !Digits(s.Slice(17, 2), out second)) return false;
        if (month is < 1 or > 12 || year < 1 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        unixMs = new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero).ToUnixTimeMilliseconds();
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c)) return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }
}
