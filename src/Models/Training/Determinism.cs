using TorchSharp;

namespace ReaSeq.Models.Training;

/// <summary>One place to seed every random source a training run uses.</summary>
public static class Determinism
{
    /// <summary>
    /// Seeds torch (CPU and, when present, CUDA) and returns a managed generator for data shuffling and sampling,
    /// so a run repeats exactly on CPU. CUDA kernels may still differ in the last bits between runs.
    /// </summary>
    public static Random Seed(int seed)
    {
        TorchDevice.EnsureTorchLoaded();
        torch.manual_seed(seed);
        if (torch.cuda.is_available()) torch.cuda.manual_seed_all(seed);
        return new Random(seed);
    }
}
