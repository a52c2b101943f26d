using System.Reflection;

namespace ReaSeq.Models.Training;

/// <summary>Finds every model and model factory in an assembly (this one by default) by reflection.</summary>
public static class TrainableModelRegistry
{
    public static IReadOnlyList<Type> ModelTypes(Assembly? assembly = null) =>
        ConcreteTypes(assembly ?? typeof(TrainableModelRegistry).Assembly, typeof(ITrainableModel));

    public static IReadOnlyList<ITrainableModelFactory> Factories(Assembly? assembly = null) =>
        ConcreteTypes(assembly ?? typeof(TrainableModelRegistry).Assembly, typeof(ITrainableModelFactory))
            .Select(type => type.GetConstructor(Type.EmptyTypes) is null
                ? throw new InvalidOperationException($"{type.FullName} needs a public parameterless constructor.")
                : (ITrainableModelFactory)Activator.CreateInstance(type)!)
            .ToList();

    /// <summary>The factory for <paramref name="modelType"/>, or a clear error naming the missing one.</summary>
    public static ITrainableModelFactory FactoryFor(Type modelType, Assembly? assembly = null) =>
        Factories(assembly ?? modelType.Assembly).SingleOrDefault(f => f.ModelType == modelType)
        ?? throw new InvalidOperationException(
            $"No {nameof(ITrainableModelFactory)} builds {modelType.FullName}; add one next to the model.");

    private static IReadOnlyList<Type> ConcreteTypes(Assembly assembly, Type contract) =>
        assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsInterface: false, IsGenericTypeDefinition: false } && contract.IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToList();
}
