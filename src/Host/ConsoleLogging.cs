using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace ReaSeq.Host;

/// <summary>
/// Logs go to stderr only: the simple single-line formatter on a terminal, JSON lines when stderr is redirected (or
/// as --log-format says). --log-level sets the minimum level for every category; without it, appsettings.json's
/// Logging:LogLevel applies, except that a terminal showing live progress gets Logging:TerminalMinimumLevel
/// (Warning), so the progress stays readable.
/// </summary>
public static class ConsoleLogging
{
    public const string TerminalMinimumLevelKey = "Logging:TerminalMinimumLevel";

    public static void Apply(HostApplicationBuilder builder, ConsoleSettings console, bool progressOnTerminal)
    {
        var json = console.Json;
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole();
        builder.Logging.AddSimpleConsole();
        builder.Logging.AddJsonConsole();
        builder.Services.PostConfigure<ConsoleLoggerOptions>(o =>
        {
            o.FormatterName = json ? ConsoleFormatterNames.Json : ConsoleFormatterNames.Simple;
            o.LogToStandardErrorThreshold = LogLevel.Trace; // everything to stderr: stdout is the command's output
        });
        builder.Services.PostConfigure<SimpleConsoleFormatterOptions>(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.ColorBehavior = ConsoleSettings.ErrorIsTerminal ? LoggerColorBehavior.Default : LoggerColorBehavior.Disabled;
        });
        builder.Services.PostConfigure<JsonConsoleFormatterOptions>(o => o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false });

        // The host logs a failed start with its stack trace; the command reports that failure itself, in one line
        // (and with the trace under --log-level debug, which replaces these rules).
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);

        LogLevel? minimum = console.Level;
        if (minimum is null && progressOnTerminal && ConsoleSettings.ErrorIsTerminal && !json)
            minimum = Enum.TryParse<LogLevel>(builder.Configuration[TerminalMinimumLevelKey], ignoreCase: true, out var configured) ? configured : LogLevel.Warning;
        if (minimum is { } level)
        {
            builder.Services.PostConfigure<LoggerFilterOptions>(o =>
            {
                o.Rules.Clear();
                o.MinLevel = level;
                if (level > LogLevel.Debug) o.Rules.Add(new LoggerFilterRule(null, "Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None, null));
            });
        }
    }
}
