using TorchSharp;
using static TorchSharp.torch;

namespace ReaSeq.Models.Ctr;

/// <summary>
/// The user-only part of a <see cref="CtrModel"/> forward pass for one user (paper §2.2.1 "System Deployment": work that
/// does not depend on the candidate is done once per user, not once per candidate): the sequence's item
/// representations, the ESU key and value projections of each distinct history item, the L2-normalised knowledge
/// vectors the GSU compares with (each distinct item once), the compressed interest anchors (§2.2.2, stage 1 attends over the full sequence and
/// is target-independent), DIN's part (<see cref="CtrDinState"/>: its window of the newest positions) and the projected user features. Built by
/// <see cref="CtrModel.EncodeUser"/> and valid only for the model (weights) that built it; read-only afterwards, so
/// concurrent candidate steps may share it. Owns its tensors: dispose it when it is no longer used.
/// </summary>
public sealed class CtrUserState : IDisposable
{
    private readonly Tensor[] _owned;
    private bool _disposed;

    internal CtrUserState(CtrModel model, long length, Tensor history, CtrDinState? din, Tensor? unitHistory, Tensor? esuKeys,
        Tensor? esuValues, Tensor? compressed, Tensor user)
    {
        Model = model;
        Length = length;
        History = history;
        Din = din;
        UnitHistory = unitHistory;
        // Only where the GSU's float32 screen runs (CtrModel's GsuSelect); other devices compare in float64.
        UnitHistoryFloat32 = unitHistory is { device_type: DeviceType.CPU } ? unitHistory.to_type(ScalarType.Float32) : null;
        EsuKeys = esuKeys;
        EsuValues = esuValues;
        Compressed = compressed;
        User = user;
        // A managed copy of the [L] table rows: the candidate step's GSU selection reads them per candidate.
        HistoryRows = history.cpu().data<long>().ToArray();
        HasPadding = HistoryRows.Any(row => row == 0);
        _owned = new[] { history, unitHistory, UnitHistoryFloat32, esuKeys, esuValues, compressed, user }.Concat(din?.Tensors ?? [])
            .Where(t => t is not null).Select(t => t!.DetachFromDisposeScope()).ToArray();
    }

    internal CtrModel Model { get; }

    /// <summary>Sequence positions L (at least 1: a cold user has one padding position, as in a training batch).</summary>
    public long Length { get; }

    /// <summary>[L] rows of the user's item table (0 = padding).</summary>
    internal Tensor History { get; }

    /// <summary>The base pathway's state (DIN's rearranged weights, derived once per user step rather than on every
    /// request, and its window of the newest positions); null with the base pathway off.</summary>
    internal CtrDinState? Din { get; }

    /// <summary>[R, itemVectorDim] float64 unit knowledge vectors of each table row (GSU).</summary>
    internal Tensor? UnitHistory { get; }

    /// <summary><see cref="UnitHistory"/> rounded to float32, on the CPU only: the GSU's screen (see CtrModel's GsuSelect).</summary>
    internal Tensor? UnitHistoryFloat32 { get; }

    /// <summary>[heads, h/heads, R] ESU key projections of each table row, each distinct history item once (paper §2.2.1
    /// "System Deployment": K/V merged and de-duplicated), laid out for the candidate step's per-head product.</summary>
    internal Tensor? EsuKeys { get; }

    /// <summary>[heads, R, h/heads] ESU value projections of each table row, laid out as <see cref="EsuKeys"/>.</summary>
    internal Tensor? EsuValues { get; }

    /// <summary>[L] <see cref="History"/> as a managed array.</summary>
    internal long[] HistoryRows { get; }

    /// <summary>Whether any position is padding (a masked softmax is only needed then: with none it is the plain softmax).</summary>
    internal bool HasPadding { get; }

    /// <summary>[M, h] the interest anchors after stage 1 of the compression pathway.</summary>
    internal Tensor? Compressed { get; }

    /// <summary>[1, h] projected user features.</summary>
    internal Tensor User { get; }

    /// <summary>Native bytes held (what a cache of states costs).</summary>
    public long Bytes => _owned.Sum(t => t.NumberOfElements * t.ElementSize);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var tensor in _owned) tensor.Dispose();
    }
}
