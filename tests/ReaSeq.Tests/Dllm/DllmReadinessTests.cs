using ReaSeq.Processors.Dllm;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Dllm;

/// <summary>
/// Issue 12 §4 for the dllm role: "model:dllm" is ready once the filling job has a version's checkpoint in memory,
/// or before that when Dllm:ReadyWithoutModel says waiting for version 1 is expected; a version it cannot load keeps
/// it waiting, not ready.
/// </summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class DllmReadinessTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Model_readiness_flips_when_the_first_version_is_loaded_unless_configured_to_wait_ready()
    {
        await using var world = await DllmWorld.StartAsync(postgres);
        world.TrainerOptions.Steps = 20; // only the version's existence matters here
        world.TrainerOptions.WarmStart = false; // version 1 below is unreadable on purpose
        using var filler = world.NewFiller();
        var strict = new DllmModelReadiness(filler, new DllmOptions());
        var lenient = new DllmModelReadiness(filler, new DllmOptions { ReadyWithoutModel = true });

        var before = await strict.CheckAsync(default);
        Assert.False(before.Ready);
        Assert.Contains("no model version loaded yet", before.Detail);
        Assert.True((await lenient.CheckAsync(default)).Ready);

        // A recorded version whose checkpoint cannot be read: the job keeps waiting (no crash) and is not ready.
        await world.Store.AddVersionAsync(0, 0, new Dictionary<string, double>(), [1, 2, 3, 4], CancellationToken.None);
        using (var shortly = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => filler.WaitForModelAsync(shortly.Token));
        Assert.Equal(1, filler.ModelVersion);
        Assert.False((await strict.CheckAsync(default)).Ready);

        var random = new Random(21);
        world.Publish(Enumerable.Range(0, 80).Select(u => DllmWorld.Walk($"user-{u:D3}", random).Update));
        var collector = world.NewCollector();
        world.Platform.Run(collector, "collector");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(collector.Consumed == 80), TimeSpan.FromSeconds(60), "windows kept");
        Assert.Equal(2, (await world.NewTrainer().TrainIfDueAsync(force: true, CancellationToken.None))?.Version);
        // Recorded is not loaded: readiness follows the checkpoint in memory.
        Assert.False((await strict.CheckAsync(default)).Ready);

        await filler.WaitForModelAsync(CancellationToken.None);
        var after = await strict.CheckAsync(default);
        Assert.True(after.Ready, after.Detail);
        Assert.Equal("dllm-v2 loaded", after.Detail);
        Assert.Equal(2, filler.LoadedModelVersion);
    }
}
