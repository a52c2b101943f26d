using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using ReaSeq.Ingestors.Replay.Csv;
using ReaSeq.Processors.Sequence;

namespace ReaSeq.Host;

/// <summary>Typed option values with errors that say what is expected (System.CommandLine custom parsers).</summary>
public static class CliParsers
{
    private static string Token(ArgumentResult r) => r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";

    /// <summary>An enum by name, case-insensitive, '-' and '_' ignored ("online-retail" → OnlineRetail).</summary>
    public static T? Enum<T>(ArgumentResult r, string option) where T : struct, System.Enum
    {
        var text = Token(r);
        var key = text.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        foreach (var value in System.Enum.GetValues<T>())
            if (string.Equals(value.ToString(), key, StringComparison.OrdinalIgnoreCase)) return value;
        r.AddError($"{option} must be one of {string.Join(", ", System.Enum.GetNames<T>().Select(Kebab))}; got '{text}'");
        return null;
    }

    /// <summary>"OnlineRetail" → "online-retail".</summary>
    public static string Kebab(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(c) : c.ToString()));

    public static Option<int> Int(string name, string description, int fallback, int min = 0, int max = int.MaxValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => fallback,
        CustomParser = r => ParseInt(r, name, min, max) ?? fallback,
    };

    public static Option<int?> OptionalInt(string name, string description, int min = 0, int max = int.MaxValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = r => ParseInt(r, name, min, max),
    };

    private static int? ParseInt(ArgumentResult r, string name, int min, int max)
    {
        var text = Token(r);
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        r.AddError(max == int.MaxValue
            ? $"{name} must be a whole number ≥ {min}; got '{text}'"
            : $"{name} must be a whole number from {min} to {max}; got '{text}'");
        return null;
    }

    public static Option<double> Double(string name, string description, double fallback, double min, double max) => new(name)
    {
        Description = description,
        HelpName = "X",
        DefaultValueFactory = _ => fallback,
        CustomParser = r => ParseDouble(r, name, min, max) ?? fallback,
    };

    public static Option<double?> OptionalDouble(string name, string description, double min, double max) => new(name)
    {
        Description = description,
        HelpName = "X",
        CustomParser = r => ParseDouble(r, name, min, max),
    };

    private static double? ParseDouble(ArgumentResult r, string name, double min, double max)
    {
        var text = Token(r);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        r.AddError($"{name} must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}; got '{text}'");
        return null;
    }

    /// <summary>A file that must exist (the check runs at parse time, so a typo never starts anything).</summary>
    public static Option<FileInfo?> ExistingFile(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "FILE",
        CustomParser = r =>
        {
            var text = Token(r);
            if (File.Exists(text)) return new FileInfo(text);
            r.AddError(Directory.Exists(text) ? $"{name} {text} is a directory; give a file" : $"{name} {text}: no such file");
            return null;
        },
    };

    /// <summary>"max" (or 0): as fast as possible; "1000x" or "1000": that many times faster than event time.</summary>
    public static double? ParseSpeed(string text) => text.Trim().ToLowerInvariant() switch
    {
        "max" or "0" => 0,
        var s when double.TryParse(s.TrimEnd('x'), NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && f > 0 && double.IsFinite(f) => f,
        _ => null,
    };

    public static Option<double?> Speed() => new("--speed")
    {
        Description = "Publishing speed: max (as fast as possible, the default) or a factor of event time like 1000x",
        HelpName = "max|FACTORx",
        CustomParser = r =>
        {
            if (ParseSpeed(Token(r)) is { } speed) return speed;
            r.AddError($"--speed must be 'max' or a factor like 1000x; got '{Token(r)}'");
            return null;
        },
    };

    public static Option<ColumnMapping?> Map() => new("--map")
    {
        Description = "Column mapping of a csv replay: user=COL,item=COL,ts=COL[,title=COL,category=COL,price=COL,description=COL," +
                      "event=COL,action=COL,basket=COL,ctx.NAME=COL,attr.NAME=COL]",
        HelpName = "ROLE=COL,...",
        CustomParser = r =>
        {
            try { return ColumnMapping.Parse(Token(r)); }
            catch (ColumnMappingException e) { r.AddError($"--map: {e.Message}"); return null; }
        },
    };

    /// <summary>The roles of `run`, checked against the known ones.</summary>
    public static Option<string[]> Roles() => new("--roles")
    {
        Description = $"Comma-separated roles to run: {string.Join(", ", Cli.Roles)}",
        HelpName = "ROLE,...",
        DefaultValueFactory = _ => ["ingest"],
        CustomParser = r =>
        {
            var roles = Token(r).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (roles.FirstOrDefault(role => !Cli.Roles.Contains(role)) is { } unknown)
                r.AddError($"unknown role '{unknown}' in --roles; known roles: {string.Join(", ", Cli.Roles)}");
            else if (roles.Length == 0) r.AddError($"--roles needs at least one of {string.Join(", ", Cli.Roles)}");
            return roles.Distinct(StringComparer.Ordinal).ToArray();
        },
    };

    /// <summary>TD, CD, TDCD, TDCD_RANK or the enum names of <see cref="DetectionVariant"/>.</summary>
    public static DetectionVariant? ParseVariant(string text) => text.Trim().ToUpperInvariant() switch
    {
        "TD" => DetectionVariant.Temporal,
        "CD" => DetectionVariant.Category,
        "TDCD" => DetectionVariant.TemporalOrCategory,
        "TDCD_RANK" or "TDCDRANK" => DetectionVariant.TemporalAndCategoryThenRank,
        _ => System.Enum.TryParse<DetectionVariant>(text, ignoreCase: true, out var v) && System.Enum.IsDefined(v) ? v : null,
    };

    public static Option<DetectionVariant?> Variant() => new("--variant")
    {
        Description = "Output variant of the detector: TD, CD, TDCD, TDCD_RANK (default: Sequence:Variant of the configuration)",
        HelpName = "TD|CD|TDCD|TDCD_RANK",
        CustomParser = r =>
        {
            if (ParseVariant(Token(r)) is { } v) return v;
            r.AddError($"--variant must be one of TD, CD, TDCD, TDCD_RANK; got '{Token(r)}'");
            return null;
        },
    };
}
