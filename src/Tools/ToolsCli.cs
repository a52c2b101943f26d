using System.CommandLine;
using ReaSeq.Host;

namespace ReaSeq.Tools;

/// <summary>`reaseq-tools`: benchmarks and evaluations, apart from the runtime executable.</summary>
public static class ToolsCli
{
    public static Task<int> RunAsync(string[] args) => CliApp.RunAsync(BuildRootCommand(), args);

    public static RootCommand BuildRootCommand() =>
        new($"ReaSeq tools: benchmarks and evaluations. {Cli.ConfigurationHelp}")
        {
            Bench.BenchRunner.Create(),
            Eval.EvalCommand.Create(),
        };
}
