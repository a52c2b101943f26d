using ReaSeq.Models.SemanticIds;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>What the deployment records about a semantic id model (the metadata of its checkpoint).</summary>
/// <param name="Version"></param>
/// <param name="TrainedOnItems"></param>
/// <param name="CollisionRate">Items sharing their RQ-VAE codes with another item (before the de-duplication level).</param>
/// <param name="CodebookUsage">Per level, the share of codes the training items use.</param>
/// <param name="TrainedAt"></param>
/// <param name="AdapterVersion">The IUI adapter whose vectors it was trained on ("" = base vectors).</param>
/// <param name="DedupCollisionRate">Collision rate of the full ids on the training items, with the de-duplication level.</param>
public sealed record SemanticIdModelPointer(string Version, long TrainedOnItems, double CollisionRate, double[] CodebookUsage, DateTimeOffset TrainedAt,
    string AdapterVersion = "", double DedupCollisionRate = 0);

/// <summary>
/// The deployment's current semantic id model (kept in PostgreSQL, never in a local folder: issue 8 D13), shared by the
/// processor (assigns ids) and the trainer (publishes new models, or follows the leader's). Full ids carry the
/// de-duplication level when <see cref="SemanticIdTrainingOptions.DedupLevel"/> is on.
/// </summary>
public sealed class SemanticIdModelHolder : IDisposable
{
    private readonly CurrentModel<SemanticIdModel, SemanticIdModelPointer> _current;
    private readonly PostgresSemanticIdDedup _dedup;
    private readonly bool _dedupLevel;

    public SemanticIdModelHolder(PostgresModelStore models, PostgresSemanticIdDedup dedup, SemanticIdTrainingOptions options)
    {
        _dedup = dedup;
        _dedupLevel = options.DedupLevel;
        string device = options.Device;
        _current = new CurrentModel<SemanticIdModel, SemanticIdModelPointer>(models, PostgresModelStore.SemanticIdKind,
            (bytes, name) => SemanticIdModel.FromBytes(bytes, name, device), model => model.ToBytes());
    }

    /// <summary>Version of the current model, "" while there is none.</summary>
    public string Version => _current.Version;

    public SemanticIdModelPointer? Pointer => _current.Pointer;

    /// <summary>Loads the deployment's current model if it changed; true when it did.</summary>
    public Task<bool> SyncAsync(CancellationToken ct) => _current.SyncAsync(ct);

    /// <summary>RQ-VAE codes for the vectors and the version that made them; empty ids and "" without a model.</summary>
    public (int[][] Ids, string Version) Assign(IReadOnlyList<float[]> vectors) => _current.Use((model, version) =>
        model is null || vectors.Count == 0 ? (vectors.Select(_ => Array.Empty<int>()).ToArray(), version) : (model.AssignIds(vectors), version));

    /// <summary>Full ids of the items: the RQ-VAE codes plus, when on, the de-duplication rank.</summary>
    public async Task<(int[][] Ids, string Version)> AssignAsync(IReadOnlyList<string> itemIds, IReadOnlyList<float[]> vectors, CancellationToken ct)
    {
        var (codes, version) = Assign(vectors);
        if (!_dedupLevel || version.Length == 0 || codes.Length == 0) return (codes, version);
        var ranks = await _dedup.RanksAsync(version, itemIds, codes, ct);
        return (SemanticIdDeduplication.Append(codes, ranks), version);
    }

    /// <summary>Stores the model in PostgreSQL as the deployment's current one and makes it the one used here.</summary>
    public Task PublishAsync(SemanticIdModel model, SemanticIdModelPointer pointer, CancellationToken ct) =>
        _current.PublishAsync(model, model.Version, pointer, ct);

    public void Dispose() => _current.Dispose();
}
