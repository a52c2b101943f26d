using ReaSeq.Models.Training;

namespace ReaSeq.Tests.Models;

/// <summary>
/// Torch tests share the global seed and the CPU threads, so they run one at a time, on one libtorch thread:
/// the models under test are tiny and the test machine is shared, where spinning worker threads cost far more.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TorchCollection : ICollectionFixture<TorchCollection.SingleThreadedTorch>
{
    public const string Name = "Torch";

    public sealed class SingleThreadedTorch
    {
        public SingleThreadedTorch() => TorchDevice.SetCpuThreads(1);
    }
}
