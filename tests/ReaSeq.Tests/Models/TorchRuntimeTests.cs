using ReaSeq.Build;
using ReaSeq.Models.Training;
using ReaSeq.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace ReaSeq.Tests.Models;

[Collection(TorchCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class TorchRuntimeTests
{
    private const string SystemLibStdCxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";

    [Fact]
    public void Torch_loads_and_multiplies_matrices_like_plain_arithmetic()
    {
        TorchDevice.EnsureTorchLoaded();
        float[] a = [1.5f, -2f, 0.25f, 3f, 4f, -1f];
        float[] b = [2f, 0.5f, -1f, 1f, 3f, -2f];
        using var left = tensor(a, new long[] { 2, 3 });
        using var right = tensor(b, new long[] { 3, 2 });
        using var product = left.matmul(right);

        var actual = product.data<float>().ToArray();
        for (int row = 0; row < 2; row++)
        {
            for (int column = 0; column < 2; column++)
            {
                float expected = 0;
                for (int k = 0; k < 3; k++) expected += a[row * 3 + k] * b[k * 2 + column];
                Assert.Equal(expected, actual[row * 2 + column], 5);
            }
        }
    }

    [Fact]
    public void Auto_device_is_cuda_exactly_when_cuda_is_available()
    {
        var device = TorchDevice.Resolve("auto");
        Assert.Equal(cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, device.type);
        Assert.Equal(DeviceType.CPU, TorchDevice.Resolve("cpu").type);
    }

    [Fact]
    public void Unknown_or_unavailable_devices_are_rejected_clearly()
    {
        var unknown = Assert.Throws<ArgumentException>(() => TorchDevice.Resolve("tpu"));
        Assert.Contains("tpu", unknown.Message);
        if (!cuda.is_available())
            Assert.Throws<InvalidOperationException>(() => TorchDevice.Resolve("cuda"));
    }

    [Fact]
    public void Seeding_repeats_random_tensors_and_managed_draws()
    {
        var firstRandom = Determinism.Seed(7);
        using var first = randn(5);
        int firstDraw = firstRandom.Next();
        var secondRandom = Determinism.Seed(7);
        using var second = randn(5);
        Assert.Equal(first.data<float>().ToArray(), second.data<float>().ToArray());
        Assert.Equal(firstDraw, secondRandom.Next());
    }

    [Fact]
    public void Output_copy_of_the_native_library_needs_only_versions_this_system_provides()
    {
        Assert.True(File.Exists(SystemLibStdCxx), $"{SystemLibStdCxx} is expected on this Linux image.");
        string outputCopy = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        Assert.True(File.Exists(outputCopy), "The build should copy libLibTorchSharp.so next to the tests.");

        var provided = ElfVersionNeedPatcher.ReadDefinedVersions(SystemLibStdCxx);
        var needed = ElfVersionNeedPatcher.ReadNeededVersionNames(outputCopy, "libstdc++.so.6");
        Assert.NotEmpty(needed);
        Assert.All(needed, version => Assert.Contains(version, provided));
    }
}
