using ReaSeq.Models.Dllm;
using ReaSeq.Tests.Infrastructure;
using static TorchSharp.torch;

namespace ReaSeq.Tests.Models.Dllm;

[Trait(Tier.Name, Tier.Integration)]
[Collection(TorchCollection.Name)]
public sealed class WarmupCosineScheduleTests
{
    [Theory]
    [InlineData(0, 0.25)]
    [InlineData(1, 0.5)]
    [InlineData(3, 1.0)]
    [InlineData(4, 1.0)]
    [InlineData(6, 0.853553390593)] // a quarter into annealing: (1 + cos π/4) / 2
    [InlineData(8, 0.5)]
    [InlineData(12, 0.0)]
    [InlineData(50, 0.0)]
    public void Rises_linearly_during_warm_up_then_follows_half_a_cosine_to_zero(int step, double expected)
    {
        var schedule = new WarmupCosineSchedule(peakLearningRate: 1.0, warmupSteps: 4, totalSteps: 12);
        Assert.Equal(expected, schedule.LearningRateAt(step), 9);
    }

    [Fact]
    public void Anneals_to_the_floor_and_without_warm_up_starts_at_the_peak()
    {
        var schedule = new WarmupCosineSchedule(peakLearningRate: 0.0075, warmupSteps: 0, totalSteps: 10, finalLearningRate: 0.001);
        Assert.Equal(0.0075, schedule.LearningRateAt(0), 12);
        Assert.Equal(0.001 + 0.0065 * 0.5, schedule.LearningRateAt(5), 12);
        Assert.Equal(0.001, schedule.LearningRateAt(10), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WarmupCosineSchedule(1.0, warmupSteps: 5, totalSteps: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.LearningRateAt(-1));
    }

    [Fact]
    public void Apply_sets_every_parameter_group_of_the_optimiser()
    {
        using var weight = zeros(3).requires_grad_(true);
        using var optimizer = optim.Adam([new TorchSharp.Modules.Parameter(weight)], 0.5);
        var schedule = new WarmupCosineSchedule(peakLearningRate: 0.2, warmupSteps: 2, totalSteps: 4);

        schedule.Apply(optimizer, step: 0);

        Assert.All(optimizer.ParamGroups, group => Assert.Equal(0.1, group.LearningRate, 12));
    }
}
