namespace ReaSeq.Host;

/// <summary>Replay wiring for `run` and `replay` (data sources arrive with the replay module).</summary>
public static class ReplaySetup
{
    public static object? Resolve(CliArgs args) => args.Get("replay") is null or "none" ? null : throw new ArgumentException("replay is not available yet");

    public static Task<int> RunWithProgressAsync(IServiceProvider services, object replay, CliArgs args, ReaSeq.Ingestors.Ingest.IngestStats stats, CancellationToken ct) =>
        Task.FromResult(0);
}
