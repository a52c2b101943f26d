using ReaSeq.Models.Representation;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>What the deployment records about an IUI adapter version.</summary>
public sealed record IuiAdapterPointer(string Version, long TrainedOnClicks, int Pairs, long LatestClickTsMs, double FinalLoss, DateTimeOffset TrainedAt);

/// <summary>
/// The deployment's current IUI adapter (kept in PostgreSQL), shared by the processor (adapts new items' vectors) and
/// the trainer (publishes new versions or follows the leader's). <see cref="DesiredVersion"/> is what a stored vector
/// should have been made with: the current version when the switch is on, "" (the base vector) when it is off.
/// </summary>
public sealed class IuiAdapterHolder : IDisposable
{
    private readonly CurrentModel<IuiModel, IuiAdapterPointer> _current;

    public IuiAdapterHolder(PostgresModelStore models, IuiRoleOptions options)
    {
        Enabled = options.Enabled;
        string device = options.Device;
        _current = new CurrentModel<IuiModel, IuiAdapterPointer>(models, PostgresModelStore.IuiKind,
            (bytes, name) => IuiModel.FromBytes(bytes, name, device), model => model.ToBytes());
    }

    public bool Enabled { get; }

    public string Version => _current.Version;

    public IuiAdapterPointer? Pointer => _current.Pointer;

    public string DesiredVersion => Enabled ? _current.Version : "";

    public Task<bool> SyncAsync(CancellationToken ct) => Enabled ? _current.SyncAsync(ct) : Task.FromResult(false);

    /// <summary>The vectors to store and publish for these base vectors, and the adapter version that made them.</summary>
    public (float[][] Vectors, string AdapterVersion) Adapt(IReadOnlyList<float[]> baseVectors)
    {
        if (!Enabled || baseVectors.Count == 0) return (baseVectors.ToArray(), "");
        return _current.Use((model, version) => model is null
            ? (baseVectors.ToArray(), "")
            : (model.Adapt(baseVectors).Select(v => v!).ToArray(), version));
    }

    public Task PublishAsync(IuiModel model, IuiAdapterPointer pointer, CancellationToken ct) => _current.PublishAsync(model, model.Version, pointer, ct);

    public void Dispose() => _current.Dispose();
}
