using ReaSeq.Host;

namespace ReaSeq.Tools;

/// <summary>`reaseq-tools`: benchmarks and evaluations, apart from the runtime executable.</summary>
public static class ToolsCli
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0) return Cli.Fail("usage: reaseq-tools bench [NAME ...] | eval representations ...");
        var rest = new CliArgs(args.Skip(1));
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        return args[0] switch
        {
            "bench" => await Bench.BenchRunner.ExecuteAsync(rest, cts.Token),
            "eval" => await Eval.EvalCommand.ExecuteAsync(rest, cts.Token),
            _ => Cli.Fail($"Unknown command '{args[0]}'."),
        };
    }
}
