using ReaSeq.Tests.Infrastructure;
using System.CommandLine;
using ReaSeq.Tests.Replay;

namespace ReaSeq.Tests.Cli;

/// <summary>
/// Issue 7: every command and option has help; a user's mistake is one line on stderr and exit code 2, never a stack
/// trace; stdout carries only the command's output.
/// </summary>
[Trait(Tier.Name, Tier.Integration)]
public sealed class CommandLineTests
{
    private static IEnumerable<(string[] Path, Command Command)> Commands(Command command, string[] path)
    {
        yield return (path, command);
        foreach (var sub in command.Subcommands)
        {
            foreach (var inner in Commands(sub, [.. path, sub.Name]))
                yield return inner;
        }
    }

    public static TheoryData<string, string> EveryCommand()
    {
        var data = new TheoryData<string, string>();
        foreach (var (path, _) in Commands(Host.Cli.BuildRootCommand(), [])) data.Add("reaseq", string.Join(' ', path));
        foreach (var (path, _) in Commands(Tools.ToolsCli.BuildRootCommand(), [])) data.Add("reaseq-tools", string.Join(' ', path));
        return data;
    }

    private static async Task<string> HelpOfAsync(string program, string path)
    {
        var root = program == "reaseq" ? Host.Cli.BuildRootCommand() : Tools.ToolsCli.BuildRootCommand();
        root.Add(Host.CliApp.LogLevelOption);
        root.Add(Host.CliApp.LogFormatOption);
        var output = new StringWriter();
        var args = path.Split(' ', StringSplitOptions.RemoveEmptyEntries).Append("--help").ToArray();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = output });
        Assert.Equal(0, code);
        return output.ToString();
    }

    [Theory]
    [MemberData(nameof(EveryCommand))]
    public async Task The_help_of_every_command_lists_each_of_its_options_and_subcommands_with_a_description(string program, string path)
    {
        var root = program == "reaseq" ? Host.Cli.BuildRootCommand() : Tools.ToolsCli.BuildRootCommand();
        var command = Commands(root, []).Single(c => string.Join(' ', c.Path) == path).Command;
        var help = await HelpOfAsync(program, path);
        Assert.False(string.IsNullOrWhiteSpace(command.Description), $"'{program} {path}' has no description");
        foreach (var option in command.Options)
        {
            Assert.Contains(option.Name, help);
            Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{option.Name} of '{program} {path}' has no description");
        }
        foreach (var sub in command.Subcommands) Assert.Contains(sub.Name, help);
        foreach (var argument in command.Arguments) Assert.False(string.IsNullOrWhiteSpace(argument.Description), $"{argument.Name} has no description");
        Assert.Contains("--log-level", help);
        Assert.Contains("--log-format", help);
    }

    [Fact]
    public async Task The_options_the_readme_and_makefile_name_are_all_there()
    {
        var run = await HelpOfAsync("reaseq", "run");
        foreach (var name in new[] { "--roles", "--replay", "--path", "--sample", "--serve", "--speed", "--max-backlog", "--negatives", "--seed", "--users",
                                     "--items", "--days", "--events-per-user", "--off-platform", "--ground-truth", "--map", "--sort", "--ts-format", "--max-skipped-share" })
        {
            Assert.Contains(name, run);
        }

        Assert.Contains("--brokers", await HelpOfAsync("reaseq", "broker"));
        Assert.Contains("--partitions", await HelpOfAsync("reaseq", "broker"));
        Assert.Contains("--neighbours", await HelpOfAsync("reaseq", "knowledge show"));
        Assert.Contains("--variant", await HelpOfAsync("reaseq", "sequence stats"));
        var eval = await HelpOfAsync("reaseq-tools", "eval representations");
        foreach (var name in new[] { "--path", "--sample", "--split-date", "--test-fraction", "--history", "--targets", "--limit-users", "--methods", "--out", "--cache" })
            Assert.Contains(name, eval);
        Assert.Contains("--out", await HelpOfAsync("reaseq-tools", "bench"));
    }

    [Theory]
    [InlineData("1000x", 1000.0)]
    [InlineData("250", 250.0)]
    [InlineData("max", 0.0)]
    [InlineData("MAX", 0.0)]
    public void Speed_is_max_or_a_factor(string text, double expected) => Assert.Equal(expected, Host.CliParsers.ParseSpeed(text));

    [Theory]
    [InlineData("fast")]
    [InlineData("-3x")]
    [InlineData("x")]
    public void Other_speeds_are_rejected(string text) => Assert.Null(Host.CliParsers.ParseSpeed(text));

    private static void AssertOneLineUserError(CliProcess.Result result, params string[] expected)
    {
        Assert.True(result.ExitCode == 2, $"exit code {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Single(result.ErrorLines);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.Equal("", result.Stdout);
        foreach (var text in expected) Assert.Contains(text, result.Stderr);
    }

    [Fact]
    public async Task Help_goes_to_stdout_without_log_lines()
    {
        var result = await CliProcess.RunAsync("reaseq", ["--help"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Stderr);
        foreach (var command in new[] { "run", "broker", "replay", "knowledge", "sequence", "--log-level", "--log-format" })
            Assert.Contains(command, result.Stdout);
        Assert.DoesNotContain("\"LogLevel\"", result.Stdout);
        Assert.DoesNotContain("info:", result.Stdout);
        Assert.DoesNotContain("%", result.Stdout); // librdkafka's own log lines
    }

    [Fact]
    public async Task An_unknown_option_is_one_line_and_exit_code_2()
    {
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", ["run", "--bogus"]), "--bogus", "reaseq run --help");
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", ["frobnicate"]), "frobnicate");
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq-tools", ["bench", "--bogus"]), "--bogus");
    }

    [Fact]
    public async Task A_bad_value_is_one_line_naming_the_option()
    {
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", ["run", "--replay", "synthetic", "--users", "many"]), "--users", "'many'");
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", ["broker", "--partitions", "-1"]), "--partitions");
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", ["run", "--speed", "fast"]), "--speed", "1000x");
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", ["run", "--roles", "ingest,tagger"]), "unknown role 'tagger'", "ingest, sequence, knowledge");
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", ["sequence", "stats", "--variant", "XY"]), "--variant", "TDCD_RANK");
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", ["run", "--log-format", "xml"]), "--log-format");
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq-tools", ["eval", "representations", "--limit-users", "x"]), "--limit-users");
    }

    [Fact]
    public async Task A_missing_file_is_one_line_naming_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), "reaseq-no-such-file.csv");
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", ["replay", "csv", "--path", missing, "--map", "user=u,item=i,ts=t"]), missing, "no such file");
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq-tools", ["eval", "representations", "--path", missing]), missing);
    }

    [Fact]
    public async Task A_bad_mapping_is_one_line()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.csv", "u,i,t\nu1,a,2016-11-08\n");
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", ["sequence", "stats", "--replay", "csv", "--path", path, "--map", "user=u,item=i"]), "--map", "ts");
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", ["sequence", "stats", "--replay", "csv", "--path", path, "--map", "user=u,item=i,ts=time"]), "time");
    }

    [Fact]
    public async Task An_unsorted_csv_names_the_line_and_sort()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.csv", "u,i,t\nu1,a,2016-11-09\nu1,b,2016-11-08\n");
        var args = new[] { "sequence", "stats", "--replay", "csv", "--path", path, "--map", "user=u,item=i,ts=t" };
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", args), "not sorted by time at line 3", "add --sort");

        var sorted = await CliProcess.RunAsync("reaseq", [.. args, "--sort"]);
        Assert.True(sorted.ExitCode == 0, sorted.Stderr);
        Assert.Contains("sequence statistics", sorted.Stdout);
    }

    [Fact]
    public async Task Too_many_unreadable_rows_exit_2_and_the_share_is_an_option()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.csv", "u,i,t\nu1,a,2016|11|08\nu1,b,2016|11|09\nu1,c,2016-11-10\n");
        var args = new[] { "sequence", "stats", "--replay", "csv", "--path", path, "--map", "user=u,item=i,ts=t" };
        AssertOneLineUserError(await CliProcess.RunAsync("reaseq", args), "2 of 3 rows", "--ts-format", "--max-skipped-share");

        var formatted = await CliProcess.RunAsync("reaseq", [.. args.Take(5), dir.Write("d.csv", "u,i,t\nu1,a,2016|11|08\nu1,b,2016|11|09\n"), .. args.Skip(6), "--ts-format", "yyyy|MM|dd"]);
        Assert.True(formatted.ExitCode == 0, formatted.Stderr);
        var lenient = await CliProcess.RunAsync("reaseq", [.. args, "--max-skipped-share", "0.9"]);
        Assert.True(lenient.ExitCode == 0, lenient.Stderr);
    }

    [Fact]
    public async Task A_bad_configuration_value_is_one_line_and_exit_code_2()
    {
        var result = await CliProcess.RunAsync("reaseq", ["run", "--roles", "ingest"], new Dictionary<string, string>
        {
            ["REASEQ__Kafka__MaxBatchSize"] = "0",
            ["REASEQ__Postgres__ConnectionString"] = "Host=127.0.0.1;Port=1;Username=nobody;Database=none",
        });
        Assert.True(result.ExitCode == 2, $"exit code {result.ExitCode}; stderr: {result.Stderr}");
        Assert.DoesNotContain("   at ", result.Stderr);
        var error = Assert.Single(result.ErrorLines, l => l.StartsWith("reaseq: ", StringComparison.Ordinal) && !l.StartsWith("reaseq: starting", StringComparison.Ordinal));
        Assert.Contains("MaxBatchSize", error);
        Assert.Contains("REASEQ__", error);
    }
}
