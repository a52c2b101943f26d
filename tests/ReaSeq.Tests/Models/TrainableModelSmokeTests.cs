using ReaSeq.Models.Training;
using ReaSeq.Tests.Infrastructure;
using static TorchSharp.torch;

namespace ReaSeq.Tests.Models;

/// <summary>Every model in ReaSeq.Models gets a factory and trains end to end through the shared contract.</summary>
[Collection(TorchCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class TrainableModelSmokeTests
{
    private const int Steps = 40;

    public static TheoryData<string> ModelTypeNames()
    {
        var data = new TheoryData<string>();
        foreach (var type in TrainableModelRegistry.ModelTypes()) data.Add(type.FullName!);
        return data;
    }

    [Fact]
    public void Every_model_has_exactly_one_factory()
    {
        var models = TrainableModelRegistry.ModelTypes();
        var factories = TrainableModelRegistry.Factories();
        Assert.NotEmpty(models);
        Assert.Equal(models.OrderBy(t => t.FullName), factories.Select(f => f.ModelType).OrderBy(t => t.FullName));
    }

    [Theory]
    [MemberData(nameof(ModelTypeNames))]
    public void Model_trains_a_few_steps_with_finite_falling_loss(string modelTypeName)
    {
        var modelType = TrainableModelRegistry.ModelTypes().Single(t => t.FullName == modelTypeName);
        var factory = TrainableModelRegistry.FactoryFor(modelType);
        var random = Determinism.Seed(11);
        var device = TorchDevice.Resolve("cpu");
        using var model = factory.CreateSmall(device, seed: 11);
        using var batch = factory.CreateSyntheticBatch(device, random, batchSize: 64);
        using var optimizer = optim.Adam(model.TrainableParameters(), 1e-2);

        var losses = Enumerable.Range(0, Steps).Select(_ => TrainingLoop.Step(model, optimizer, batch)).ToArray();

        Assert.All(losses, loss => Assert.True(float.IsFinite(loss), $"{model.Name} produced loss {loss}."));
        double early = losses.Take(5).Average(), late = losses.TakeLast(5).Average();
        Assert.True(late < early * 0.9, $"{model.Name}: loss went from {early:G4} to {late:G4}.");

        model.SetTraining(false);
        using var prediction = model.Predict(batch);
        Assert.Equal(batch.Count, prediction.shape[0]);
    }

    [Fact]
    public void Batch_rejects_fields_of_different_lengths_and_names_missing_fields()
    {
        using var batch = new Interaction().Add("a", zeros(3, 2));
        using var wrong = zeros(4);
        Assert.Throws<ArgumentException>(() => batch.Add("b", wrong));
        var missing = Assert.Throws<KeyNotFoundException>(() => batch["b"]);
        Assert.Contains("'b'", missing.Message);
    }
}
