using System.Reflection;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Knowledge;
using ReaSeq.Tests.Models;

namespace ReaSeq.Tests.Architecture;

/// <summary>Keeps `make test-unit` fast and honest: a test class that needs real infrastructure is in the integration tier.</summary>
public sealed class TestTierTests
{
    /// <summary>Fixtures that start a real component (PostgreSQL, the ONNX encoder, a GGUF model).</summary>
    private static readonly Type[] InfrastructureFixtures = [typeof(PostgresFixture), typeof(EncoderFixture), typeof(TinyModelFixture)];

    [Fact]
    public void Every_test_class_that_uses_real_infrastructure_is_in_the_integration_tier()
    {
        var untiered = typeof(TestTierTests).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.GetMethods().Any(IsTest))
            .Where(UsesInfrastructure)
            .Where(t => !HasIntegrationTrait(t))
            .Select(t => t.FullName).ToList();
        Assert.True(untiered.Count == 0, "add [Trait(Tier.Name, Tier.Integration)] to: " + string.Join(", ", untiered));
    }

    private static bool IsTest(MethodInfo method) =>
        method.GetCustomAttributes<FactAttribute>(inherit: true).Any();

    private static bool UsesInfrastructure(Type type) =>
        type.GetConstructors().SelectMany(c => c.GetParameters()).Any(p => InfrastructureFixtures.Contains(p.ParameterType))
        || type.GetCustomAttributesData().Any(a => a.AttributeType == typeof(CollectionAttribute)
            && a.ConstructorArguments.Any(arg => Equals(arg.Value, TorchCollection.Name)));

    private static bool HasIntegrationTrait(Type type) =>
        type.GetCustomAttributesData().Any(a => a.AttributeType == typeof(TraitAttribute)
            && a.ConstructorArguments.Select(arg => arg.Value).SequenceEqual([Tier.Name, Tier.Integration]));
}
