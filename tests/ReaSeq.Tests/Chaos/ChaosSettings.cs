using System.Globalization;

namespace ReaSeq.Tests.Chaos;

/// <summary>
/// How big the fault-injection suite runs. REASEQ_CHAOS=full (`make chaos`): at least 20 random SIGKILL points per role,
/// a 30 s broker outage, several SIGTERMs, and bench/results/reliability.json written. Otherwise the short form that
/// `make test` runs: the same scenarios with 2 kill points per role and a 5 s outage, its report in the temp folder.
/// REASEQ_CHAOS_SEED fixes the random kill points (the seed used is printed and recorded either way).
/// </summary>
public static class ChaosSettings
{
    public static bool Full { get; } = string.Equals(Environment.GetEnvironmentVariable("REASEQ_CHAOS"), "full", StringComparison.OrdinalIgnoreCase);

    public static int Seed { get; } = int.TryParse(Environment.GetEnvironmentVariable("REASEQ_CHAOS_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
        ? seed
        : Environment.TickCount & 0x7fffffff;

    /// <summary>SIGKILLs per role.</summary>
    public static int KillPoints => Full ? 20 : 2;

    /// <summary>How long every broker of the cluster stays down in the outage scenario.</summary>
    public static TimeSpan BrokerOutage => TimeSpan.FromSeconds(Full ? 30 : 5);

    /// <summary>SIGTERMs under load.</summary>
    public static int Terminations => Full ? 5 : 1;

    /// <summary>The largest recovery the suite accepts after a fault ends: beyond it the role is stalled.</summary>
    public static TimeSpan StallLimit => TimeSpan.FromSeconds(90);

    public static string Mode => Full ? "full" : "short";

    /// <summary>A random source per scenario, derived from the suite's seed so one scenario's draws do not shift another's.</summary>
    public static Random RandomFor(string scenario)
    {
        var hash = 17;
        foreach (var c in scenario) hash = unchecked(hash * 31 + c);
        return new Random(unchecked(Seed ^ hash));
    }

    /// <summary>The full suite's report is part of the repository; the short form's stays out of it.</summary>
    public static string ReportPath =>
        Environment.GetEnvironmentVariable("REASEQ_CHAOS_REPORT") is { Length: > 0 } path ? path
        : Full ? Path.Combine(Infrastructure.RepoPaths.Root, "bench", "results", "reliability.json")
        : Path.Combine(Path.GetTempPath(), "reaseq-reliability-short.json");
}
