namespace ReaSeq.Host;

public static class ReplayCommand
{
    public static Task<int> ExecuteAsync(CliArgs args, CancellationToken ct) => Task.FromResult(Cli.Fail("replay: not available yet"));
}
