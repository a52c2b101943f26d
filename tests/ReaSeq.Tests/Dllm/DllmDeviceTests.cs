using System.ComponentModel.DataAnnotations;
using ReaSeq.Models.Dllm;
using ReaSeq.Processors.Dllm;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Models;
using TorchSharp;

namespace ReaSeq.Tests.Dllm;

/// <summary>The role's device choice (issue 9 §2): CPU by default, CUDA with Device=auto when present.</summary>
[Trait(Tier.Name, Tier.Integration)]
[Collection(TorchCollection.Name)]
public sealed class DllmDeviceTests
{
    private static readonly LladaTinyOptions Tiny = new() { Layers = 1, ModelDim = 8, Heads = 2, MaxLength = 8, ItemVectorDim = 4 };

    [Fact]
    public void The_role_runs_on_the_cpu_by_default_even_where_the_model_would_pick_cuda()
    {
        var dllm = new DllmOptions();
        Assert.Equal("cpu", dllm.Device);
        var options = DllmTrainer.ModelOptions(Tiny, dllm, steps: 10);
        using var model = LladaTiny.Create(options);
        Assert.Equal(DeviceType.CPU, model.Device.type);
    }

    [Fact]
    public void Auto_picks_cuda_exactly_when_it_is_available()
    {
        var options = DllmTrainer.ModelOptions(Tiny, new DllmOptions { Device = "auto" }, steps: 10);
        using var model = LladaTiny.Create(options);
        Assert.Equal(torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, model.Device.type);
        // The schedule spans one version's steps; warm-up at most a tenth of them.
        Assert.Equal((10, 1), (options.TotalSteps, options.WarmupSteps));
    }

    [Fact]
    public void An_unknown_device_is_refused_at_start()
    {
        var results = new List<ValidationResult>();
        var options = new DllmOptions { Device = "tpu" };
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.Contains("tpu", Assert.Single(results).ErrorMessage, StringComparison.Ordinal);
    }
}
