using System.Diagnostics;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// Paces a load generator to its target rate without spinning: on this 2-core machine a sender that spun between
/// records took a whole core from the system under test (broker, processor, PostgreSQL), which no real producer on
/// another machine does. A record due within the next millisecond goes out now, so records leave in small bursts;
/// latencies are still timed from each record's actual send.
/// </summary>
internal static class Pacing
{
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(1);

    public static void WaitUntil(Stopwatch clock, TimeSpan due)
    {
        var ahead = due - clock.Elapsed;
        if (ahead > Slack) Thread.Sleep(ahead);
    }
}
