using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// The ceiling a model's training FLOP/s is compared with in the same run: a [rows, inner] × [inner, cols] matmul,
/// repeated for at least <c>minimumDuration</c> and <c>minimumCalls</c>, synchronised on CUDA so queued kernels count.
/// </summary>
public static class MatmulBaseline
{
    public static double Flops(int rows, int inner, int cols, TimeSpan minimumDuration, int minimumCalls, Device? device = null)
    {
        device ??= CPU;
        using var scope = NewDisposeScope();
        var a = randn(rows, inner, device: device);
        var b = randn(inner, cols, device: device);
        a.mm(b); // warm-up
        Synchronise(device);
        long calls = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < minimumDuration || calls < minimumCalls)
        {
            a.mm(b).Dispose();
            calls++;
        }
        Synchronise(device);
        return calls * 2.0 * rows * inner * cols / clock.Elapsed.TotalSeconds;
    }

    private static void Synchronise(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
    }
}
