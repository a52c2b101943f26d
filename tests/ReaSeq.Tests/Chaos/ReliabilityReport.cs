using System.Text.Json;
using System.Text.Json.Nodes;

namespace ReaSeq.Tests.Chaos;

/// <summary>What one fault-injection scenario saw.</summary>
public sealed class ScenarioResult(string name)
{
    public string Name { get; } = name;

    /// <summary>Role processes started (killed ones, restarts, the uninterrupted reference run).</summary>
    public int Runs { get; set; }

    /// <summary>SIGKILLs delivered.</summary>
    public int KillPoints { get; set; }

    /// <summary>Per kill: milliseconds after the process started, and each role's progress at that moment.</summary>
    public List<string> Kills { get; } = [];

    /// <summary>Keys (rows, users, items) the uninterrupted run has and the faulted run lacks or ends differently.</summary>
    public long RecordsLost { get; set; }

    /// <summary>Records published or stored more than once with different bytes, or differing from the uninterrupted run.</summary>
    public long NonIdenticalDuplicates { get; set; }

    /// <summary>Byte-identical repeats (allowed: at-least-once delivery of a deterministic record).</summary>
    public long IdenticalRepeats { get; set; }

    /// <summary>
    /// Longest time from a restart (or the end of a fault) until the role moved past where it stood, in seconds.
    /// </summary>
    public double MaxRecoverySeconds { get; set; }

    /// <summary>Longest time from SIGTERM to exit, in seconds (only where the scenario sends SIGTERM).</summary>
    public double? SigtermExitSeconds { get; set; }

    public double Seconds { get; set; }

    public string Notes { get; set; } = "";

    /// <summary>Set once the scenario's figures are in the report.</summary>
    public bool Recorded { get; set; }

    public void Recovered(TimeSpan elapsed) => MaxRecoverySeconds = Math.Max(MaxRecoverySeconds, Math.Round(elapsed.TotalSeconds, 2));

    public override string ToString() =>
        $"{Name}: runs {Runs}, kill points {KillPoints}, lost {RecordsLost}, non-identical duplicates {NonIdenticalDuplicates}, " +
        $"identical repeats {IdenticalRepeats}, max recovery {MaxRecoverySeconds:F2} s, SIGTERM exit {SigtermExitSeconds?.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) ?? "-"} s";
}

/// <summary>
/// Writes bench/results/reliability.json (full suite) scenario by scenario: each test replaces its own entry, so a
/// filtered run keeps what the others recorded earlier, and the suite's seed, mode and machine load are rewritten.
/// </summary>
public static class ReliabilityReport
{
    private static readonly object Gate = new();

    public static void Record(ScenarioResult result)
    {
        Console.WriteLine($"chaos ({ChaosSettings.Mode}, seed {ChaosSettings.Seed}) {result}");
        lock (Gate)
        {
            var path = ChaosSettings.ReportPath;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            JsonObject root;
            try { root = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? [] : []; }
            catch (JsonException) { root = []; }
            var scenarios = root["scenarios"] as JsonObject ?? [];
            root.Remove("scenarios");
            root["suite"] = "make chaos (tests/ReaSeq.Tests/Chaos)";
            root["mode"] = ChaosSettings.Mode;
            root["seed"] = ChaosSettings.Seed;
            root["cores"] = Environment.ProcessorCount;
            scenarios[result.Name] = new JsonObject
            {
                ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
                ["seed"] = ChaosSettings.Seed,
                ["runs"] = result.Runs,
                ["kill_points"] = result.KillPoints,
                ["records_lost"] = result.RecordsLost,
                ["non_identical_duplicates"] = result.NonIdenticalDuplicates,
                ["identical_repeats"] = result.IdenticalRepeats,
                ["max_recovery_seconds"] = result.MaxRecoverySeconds,
                ["sigterm_exit_seconds"] = result.SigtermExitSeconds,
                ["scenario_seconds"] = Math.Round(result.Seconds, 1),
                ["load_average_1m"] = LoadAverage(),
                ["kill_points_detail"] = new JsonArray([.. result.Kills.Select(k => (JsonNode)JsonValue.Create(k))]),
                ["notes"] = result.Notes,
            };
            root["scenarios"] = scenarios;
            File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        }
    }

    /// <summary>The 1-minute load average (the machine is shared: figures mean little without it).</summary>
    public static double LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }
}
