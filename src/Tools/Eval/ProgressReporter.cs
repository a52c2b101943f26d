using System.Diagnostics;

namespace ReaSeq.Tools.Eval;

/// <summary>Prints "label: done/total (rate items/s)" to stderr at most every two seconds.</summary>
public sealed class ProgressReporter(string label, int total)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastPrint = TimeSpan.Zero;

    public void Report(int done, bool final = false)
    {
        if (!final && _clock.Elapsed - _lastPrint < TimeSpan.FromSeconds(2)) return;
        _lastPrint = _clock.Elapsed;
        var rate = done / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
        Console.Error.WriteLine($"{label}: {done:N0}/{total:N0} ({rate:F1} items/s{(final ? $", {_clock.Elapsed.TotalSeconds:F1} s" : "")})");
    }

    public double ItemsPerSecond(int done) => done / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
}
