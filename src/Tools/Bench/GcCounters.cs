using System.Text.Json.Nodes;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// This process's collections and summed pause time at one point of a benchmark. The system under test shares the
/// process with the benchmark's own clients, so a phase records what the collector did during it: a short run's p99
/// is a handful of samples, and these figures say whether pauses can explain it.
/// </summary>
public readonly record struct GcCounters(int Gen0, int Gen1, int Gen2, TimeSpan Pause, long AllocatedBytes)
{
    public static GcCounters Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes());

    /// <summary>What happened since this point.</summary>
    public JsonObject Since()
    {
        var now = Now();
        var ephemeral = GC.GetGCMemoryInfo(GCKind.Ephemeral);
        return new JsonObject
        {
            ["gen0_collections"] = now.Gen0 - Gen0,
            ["gen1_collections"] = now.Gen1 - Gen1,
            ["gen2_collections"] = now.Gen2 - Gen2,
            ["pause_total_ms"] = Math.Round((now.Pause - Pause).TotalMilliseconds, 1),
            ["allocated_mb"] = Math.Round((now.AllocatedBytes - AllocatedBytes) / 1048576.0, 1),
            // What one collection of the young generations kept (copied to an older one): what its pause is made of.
            ["last_ephemeral_promoted_mb"] = Math.Round(ephemeral.PromotedBytes / 1048576.0, 2),
            ["last_ephemeral_pause_ms"] = Math.Round(ephemeral.PauseDurations[0].TotalMilliseconds, 2),
        };
    }

    /// <summary>
    /// A full, compacting collection before a measured phase, so that it does not pay for the garbage an earlier phase
    /// (or another benchmark in the same process) left behind; its own garbage it still pays for.
    /// </summary>
    public static void Settle()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}
