using System.Text.Json;
using Microsoft.Extensions.Logging;
using ReaSeq.Models.SemanticIds;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>What current.json in the model directory records about the live semantic id model.</summary>
public sealed record SemanticIdModelPointer(string Version, long TrainedOnItems, double CollisionRate, double[] CodebookUsage, DateTimeOffset TrainedAt);

/// <summary>
/// The current semantic id model, shared by the processor (assigns ids) and the trainer (swaps in new models).
/// Assignment and swap take one lock, so a model is never disposed while it is assigning.
/// </summary>
public sealed class SemanticIdModelHolder : IDisposable
{
    public const string PointerFile = "current.json";

    private readonly object _gate = new();
    private SemanticIdModel? _model;

    public SemanticIdModelHolder(SemanticIdTrainingOptions options, ILogger<SemanticIdModelHolder> logger)
    {
        ModelDirectory = options.ModelDirectory;
        // Resume with the model the last run published ids with, so restarts and replays assign the same ids.
        var pointerPath = Path.Combine(ModelDirectory, PointerFile);
        if (!File.Exists(pointerPath)) return;
        try
        {
            var pointer = JsonSerializer.Deserialize<SemanticIdModelPointer>(File.ReadAllText(pointerPath))
                ?? throw new InvalidDataException("empty pointer");
            _model = SemanticIdModel.Load(ModelPath(pointer.Version), options.Device);
            Pointer = pointer;
            logger.LogInformation("knowledge: semantic id model {Version} loaded from {Directory}", pointer.Version, ModelDirectory);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "knowledge: could not load the semantic id model named by {Pointer}; a new one will be trained", pointerPath);
        }
    }

    public string ModelDirectory { get; }

    /// <summary>Version of the current model, "" while there is none.</summary>
    public string Version
    {
        get { lock (_gate) return _model?.Version ?? ""; }
    }

    public SemanticIdModelPointer? Pointer { get; private set; }

    public string ModelPath(string version) => Path.Combine(ModelDirectory, version + ".pt");

    /// <summary>Ids for the vectors and the version that made them; empty ids and "" without a model.</summary>
    public (int[][] Ids, string Version) Assign(IReadOnlyList<float[]> vectors)
    {
        lock (_gate)
        {
            if (_model is null || vectors.Count == 0) return (vectors.Select(_ => Array.Empty<int>()).ToArray(), _model?.Version ?? "");
            return (_model.AssignIds(vectors), _model.Version);
        }
    }

    /// <summary>Saves the model, points current.json at it and makes it the one <see cref="Assign"/> uses.</summary>
    public void Publish(SemanticIdModel model, SemanticIdModelPointer pointer)
    {
        Directory.CreateDirectory(ModelDirectory);
        model.Save(ModelPath(model.Version));
        var pointerPath = Path.Combine(ModelDirectory, PointerFile);
        File.WriteAllText(pointerPath + ".tmp", JsonSerializer.Serialize(pointer));
        File.Move(pointerPath + ".tmp", pointerPath, overwrite: true);
        lock (_gate)
        {
            _model?.Dispose();
            _model = model;
            Pointer = pointer;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _model?.Dispose();
            _model = null;
        }
    }
}
