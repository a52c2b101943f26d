using TorchSharp;
using static TorchSharp.torch;

namespace ReaSeq.Models.Training;

/// <summary>Chooses where tensors live: "auto" (CUDA when present, else CPU), "cpu", "cuda" or "cuda:N".</summary>
public static class TorchDevice
{
    public const string Auto = "auto";

    public static Device Resolve(string? preference = Auto)
    {
        EnsureTorchLoaded();
        string choice = string.IsNullOrWhiteSpace(preference) ? Auto : preference.Trim().ToLowerInvariant();
        if (choice == Auto) return cuda.is_available() ? CUDA : CPU;
        if (choice == "cpu") return CPU;
        if (choice == "cuda" || choice.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new InvalidOperationException($"Device '{preference}' was requested but CUDA is not available here.");
            return new Device(choice);
        }
        throw new ArgumentException($"Unknown device '{preference}'. Use auto, cpu, cuda or cuda:N.", nameof(preference));
    }

    /// <summary>
    /// Caps libtorch's CPU worker threads for this process. On a small or busy machine, small models train many
    /// times faster on one thread than with threads that spin waiting for each other.
    /// </summary>
    /// <remarks>
    /// libtorch reads this count once per OS thread, the first time that thread runs an op (its OpenMP setting is
    /// per thread), and libtorch's later changes never reach it: a thread that ran an op before this call keeps
    /// the count it had. Long-lived threads that run ops use <see cref="UseCpuThreadsOnThisThread"/>.
    /// </remarks>
    public static void SetCpuThreads(int threads)
    {
        if (threads <= 0) throw new ArgumentOutOfRangeException(nameof(threads), threads, "Thread count must be positive.");
        EnsureTorchLoaded();
        set_num_threads(threads);
        t_threadsOnThisThread = threads;
    }

    /// <summary>
    /// Makes the ops this thread runs use <paramref name="threads"/> libtorch threads from now on, whatever this
    /// thread had before (see <see cref="SetCpuThreads"/>): cheap when already so. libtorch also takes the count as the
    /// default of threads that have not run an op yet.
    /// </summary>
    public static void UseCpuThreadsOnThisThread(int threads)
    {
        if (threads == t_threadsOnThisThread) return;
        SetCpuThreads(threads);
    }

    /// <summary>The count this thread last set (0: none yet).</summary>
    [ThreadStatic] private static int t_threadsOnThisThread;

    /// <summary>
    /// Forces libtorch to load now, so a broken native setup surfaces here with a hint instead of deep in a model.
    /// </summary>
    public static void EnsureTorchLoaded()
    {
        try
        {
            InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException(
                "libtorch failed to load. On Linux the usual cause is a system libstdc++ older than the one " +
                "libLibTorchSharp.so was built against; the build patches the output copy when it can " +
                "(build/LibStdCxxCompat.targets), so rebuild and check its messages. Original error: " + e.Message, e);
        }
    }
}
