namespace ReaSeq.Ingestors.Replay.OnlineRetail;

/// <summary>Finds the shared Online Retail files.</summary>
public static class OnlineRetailData
{
    public const string EnvironmentVariable = "REASEQ_ONLINE_RETAIL_DIR";
    public const string FullFileName = "online_retail.csv.gz";
    public const string SampleFileName = "online_retail_sample.csv";
    private static readonly string RelativeDirectory = Path.Combine("shared", "data", "online-retail");

    /// <summary>
    /// The data directory: <see cref="EnvironmentVariable"/> when set, else the first <c>shared/data/online-retail</c>
    /// found beside the working directory or the program, or one of their ancestors. Null when none exists.
    /// </summary>
    public static string? FindDirectory()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
            return Directory.Exists(configured) ? Path.GetFullPath(configured) : null;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, RelativeDirectory);
                if (Directory.Exists(candidate)) return candidate;
            }
        }

        return null;
    }
}
