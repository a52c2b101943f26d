using System.IO.Compression;
using System.Text;
using ReaSeq.Ingestors.Replay.OnlineRetail;

namespace ReaSeq.Tests.Replay;

/// <summary>A fact that runs only where the shared Online Retail files exist (REASEQ_ONLINE_RETAIL_DIR or shared/data/online-retail).</summary>
public sealed class OnlineRetailFactAttribute : FactAttribute
{
    public OnlineRetailFactAttribute(bool needsFullFile = false)
    {
        var dir = OnlineRetailData.FindDirectory();
        var file = needsFullFile ? OnlineRetailData.FullFileName : OnlineRetailData.SampleFileName;
        if (dir is null || !File.Exists(Path.Combine(dir, file)))
            Skip = $"Online Retail data ({file}) not found; set {OnlineRetailData.EnvironmentVariable}";
    }
}

/// <summary>A temporary directory removed after the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("reaseq-replay-").FullName;

    public string Write(string name, string text)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    public string WriteGzip(string name, string text)
    {
        var path = System.IO.Path.Combine(Path, name);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(Encoding.UTF8.GetBytes(text));
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

internal static class OnlineRetailFiles
{
    public static string Sample => System.IO.Path.Combine(OnlineRetailData.FindDirectory()!, OnlineRetailData.SampleFileName);
    public static string Full => System.IO.Path.Combine(OnlineRetailData.FindDirectory()!, OnlineRetailData.FullFileName);
}
