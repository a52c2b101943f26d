using System.Text.Json;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// The deployment's current model of one kind, as recorded in PostgreSQL (<see cref="PostgresModelStore"/>), loaded
/// into this process. Every process syncs to the recorded version; only the leader publishes new ones. Use and swap
/// take one lock, so a model is never disposed while in use.
/// </summary>
public sealed class CurrentModel<TModel, TPointer> : IDisposable
    where TModel : class, IDisposable
    where TPointer : class
{
    private readonly object _gate = new();
    private readonly PostgresModelStore _store;
    private readonly string _kind;
    private readonly Func<byte[], string, TModel> _load;
    private readonly Func<TModel, byte[]> _save;
    private TModel? _model;

    public CurrentModel(PostgresModelStore store, string kind, Func<byte[], string, TModel> load, Func<TModel, byte[]> save)
    {
        _store = store;
        _kind = kind;
        _load = load;
        _save = save;
    }

    /// <summary>Version of the loaded model, "" while there is none.</summary>
    public string Version { get; private set; } = "";

    public TPointer? Pointer { get; private set; }

    /// <summary>Runs <paramref name="use"/> on the loaded model (null when there is none) under the lock.</summary>
    public T Use<T>(Func<TModel?, string, T> use)
    {
        lock (_gate) return use(_model, Version);
    }

    /// <summary>Loads the recorded current version when it differs from the loaded one; true when it swapped.</summary>
    public async Task<bool> SyncAsync(CancellationToken ct)
    {
        var current = await _store.CurrentAsync(_kind, ct);
        if (current is null || current.Value.Version == Version) return false;
        var body = await _store.LoadAsync(_kind, current.Value.Version, ct)
            ?? throw new InvalidDataException($"current_models names {_kind} {current.Value.Version}, which has no checkpoint.");
        var model = _load(body, $"{_kind} checkpoint {current.Value.Version}");
        Swap(model, current.Value.Version, JsonSerializer.Deserialize<TPointer>(current.Value.MetaJson));
        return true;
    }

    /// <summary>Stores the model as the deployment's current one and uses it here.</summary>
    public async Task PublishAsync(TModel model, string version, TPointer pointer, CancellationToken ct)
    {
        await _store.PublishAsync(_kind, version, _save(model), JsonSerializer.Serialize(pointer), ct);
        Swap(model, version, pointer);
    }

    private void Swap(TModel model, string version, TPointer? pointer)
    {
        lock (_gate)
        {
            _model?.Dispose();
            _model = model;
            Version = version;
            Pointer = pointer;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _model?.Dispose();
            _model = null;
            Version = "";
        }
    }
}
