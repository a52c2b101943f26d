using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ReaSeq.Host;

/// <summary>The global options every command shares (logging goes to stderr; stdout carries only output).</summary>
public sealed record ConsoleSettings(LogLevel? Level, LogFormat Format)
{
    public static ConsoleSettings Default { get; } = new(null, LogFormat.Auto);

    public static bool ErrorIsTerminal => !Console.IsErrorRedirected;

    public bool Json => Format == LogFormat.Json || (Format == LogFormat.Auto && Console.IsErrorRedirected);
}

/// <summary>
/// Runs a System.CommandLine root command the way both executables want it: global --log-level/--log-format, one-line
/// errors with exit code 2 for the user's mistakes (parse errors, missing files, bad data, bad configuration), exit
/// code 1 and a hint for anything unexpected, and SIGINT/SIGTERM as a requested stop (exit code 0).
/// </summary>
public static class CliApp
{
    public const int UserError = 2;
    public const int InternalError = 1;

    /// <summary>After a stop is requested, the process ends at the latest this long after the signal.</summary>
    public static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(9);

    public static readonly Option<LogLevel?> LogLevelOption = new("--log-level")
    {
        Description = "Minimum level of the log written to stderr: trace, debug, information, warning, error, critical, none " +
                      "(default: Logging:LogLevel of appsettings.json; during `run` on a terminal Logging:TerminalMinimumLevel)",
        HelpName = "level",
        Recursive = true,
        CustomParser = r => CliParsers.Enum<LogLevel>(r, "--log-level") is { } l ? l : null,
    };

    public static readonly Option<LogFormat?> LogFormatOption = new("--log-format")
    {
        Description = "Log format on stderr: auto (readable text on a terminal, JSON lines when redirected; the default), text, json",
        HelpName = "auto|text|json",
        Recursive = true,
        CustomParser = r => CliParsers.Enum<LogFormat>(r, "--log-format"),
    };

    public static ConsoleSettings Console(ParseResult result) => new(result.GetValue(LogLevelOption), result.GetValue(LogFormatOption) ?? LogFormat.Auto);

    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        root.Add(LogLevelOption);
        root.Add(LogFormatOption);
        var parsed = root.Parse(args);
        var name = root.Name;
        if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
        {
            var command = string.Join(' ', CommandPath(parsed.CommandResult));
            // "Required command was not provided" accompanies an unknown command: name the unknown one first.
            var error = parsed.Errors.OrderBy(e => e.SymbolResult is CommandResult && e.Message.Contains("Required command", StringComparison.Ordinal) ? 1 : 0).First();
            var message = error.Message.TrimEnd('.');
            if (parsed.Errors.Count == 1 && parsed.CommandResult.Command.Subcommands.Count > 0 && message.Contains("Required command", StringComparison.Ordinal))
                message = $"{command} needs a command: {string.Join(", ", parsed.CommandResult.Command.Subcommands.Select(c => c.Name))}";
            System.Console.Error.WriteLine($"{name}: {OneLine(message)} (see '{command} --help')");
            return UserError;
        }

        var debug = parsed.GetValue(LogLevelOption) is <= LogLevel.Debug;
        using var stop = new StopSignal(name);
        try
        {
            var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
            var code = await parsed.InvokeAsync(config, stop.Token);
            return stop.Requested ? 0 : code;
        }
        catch (Exception e) when (stop.Requested && IsCancellation(e))
        {
            return 0;
        }
        catch (Exception e)
        {
            return Report(name, e, debug);
        }
    }

    /// <summary>Writes the error as one line; exit code 2 for the user's mistakes, 1 otherwise.</summary>
    public static int Report(string program, Exception error, bool debug)
    {
        var e = Unwrap(error);
        var (code, message) = e switch
        {
            UserException or OptionsValidationException or FileNotFoundException or DirectoryNotFoundException
                or FormatException or InvalidDataException => (UserError, ConfigHint(e)),
            ArgumentException and not ArgumentNullException => (UserError, e.Message),
            KafkaException k => (InternalError, $"Kafka: {k.Error.Reason}; check Kafka:BootstrapServers (REASEQ__Kafka__BootstrapServers) and that the cluster is reachable"),
            NpgsqlException or PostgresException => (InternalError, $"PostgreSQL: {e.Message}; check Postgres:ConnectionString (REASEQ__Postgres__ConnectionString) and that the server is up"),
            _ => (InternalError, $"unexpected error ({e.GetType().Name}): {e.Message}"),
        };
        if (code == InternalError && !debug) message += "; run with --log-level debug for details";
        System.Console.Error.WriteLine($"{program}: {OneLine(message)}");
        if (debug) System.Console.Error.WriteLine(e.ToString());
        return code;
    }

    private static string ConfigHint(Exception e) => e is OptionsValidationException
        ? $"configuration: {e.Message} (set it in appsettings.json or as REASEQ__Section__Key)"
        : e.Message;

    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: > 0 } a: e = a.InnerExceptions[0]; continue;
                case System.Reflection.TargetInvocationException { InnerException: { } inner }: e = inner; continue;
                case InvalidOperationException { InnerException: OptionsValidationException v }: e = v; continue;
                default: return e;
            }
        }
    }

    private static bool IsCancellation(Exception e) => Unwrap(e) is OperationCanceledException;

    private static string OneLine(string text) =>
        string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static IEnumerable<string> CommandPath(SymbolResult? result)
    {
        var names = new Stack<string>();
        for (var r = result; r is not null; r = r.Parent)
            if (r is CommandResult c) names.Push(c.Command.Name);
        return names;
    }

    /// <summary>
    /// SIGINT (Ctrl-C) and SIGTERM cancel the command's token; the command winds down and the process exits 0. A
    /// second signal, or a shutdown that takes longer than <see cref="StopDeadline"/>, ends the process at once.
    /// </summary>
    private sealed class StopSignal : IDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private readonly PosixSignalRegistration[] _registrations;
        private readonly string _program;
        private int _signals;

        public StopSignal(string program)
        {
            _program = program;
            _registrations =
            [
                PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
            ];
        }

        public CancellationToken Token => _cts.Token;

        public bool Requested => _cts.IsCancellationRequested;

        private void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // no default termination: the command stops in order
            if (Interlocked.Increment(ref _signals) > 1)
            {
                System.Console.Error.WriteLine($"{_program}: second {context.Signal}: exiting now");
                Environment.Exit(0);
            }
            System.Console.Error.WriteLine($"{_program}: {context.Signal} received, stopping…");
            // The watchdog: whatever blocks (a native call that ignores cancellation), the requested stop ends in time.
            var watchdog = new Thread(() =>
            {
                Thread.Sleep(StopDeadline);
                System.Console.Error.WriteLine($"{_program}: shutdown took longer than {StopDeadline.TotalSeconds:F0} s; exiting");
                Environment.Exit(0);
            })
            { IsBackground = true, Name = "stop-watchdog" };
            watchdog.Start();
            _cts.Cancel();
        }

        public void Dispose()
        {
            foreach (var r in _registrations) r.Dispose();
            _cts.Dispose();
        }
    }
}
