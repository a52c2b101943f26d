namespace ReaSeq.Tests.Infrastructure;

public static class RepoPaths
{
    /// <summary>The repository root (the folder holding ReaSeq.sln).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The shared Online Retail folder: REASEQ_ONLINE_RETAIL_DIR, else ../shared/data/online-retail beside the checkout.</summary>
    public static string OnlineRetailDir =>
        Environment.GetEnvironmentVariable("REASEQ_ONLINE_RETAIL_DIR") is { Length: > 0 } dir
            ? dir
            : Path.GetFullPath(Path.Combine(Root, "..", "shared", "data", "online-retail"));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ReaSeq.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (ReaSeq.sln) above " + AppContext.BaseDirectory);
    }
}
