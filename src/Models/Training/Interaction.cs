using static TorchSharp.torch;

namespace ReaSeq.Models.Training;

/// <summary>
/// A batch of named tensors that all share the first (batch) dimension, like RecBole's Interaction.
/// Each model documents the fields it reads; owning the batch means owning (and disposing) its tensors.
/// </summary>
public sealed class Interaction : IDisposable
{
    private readonly Dictionary<string, Tensor> _fields = new(StringComparer.Ordinal);

    public Interaction() { }

    public Interaction(IEnumerable<KeyValuePair<string, Tensor>> fields)
    {
        foreach (var (name, tensor) in fields) Add(name, tensor);
    }

    /// <summary>Rows in the batch (0 when empty).</summary>
    public long Count { get; private set; }

    public IEnumerable<string> Fields => _fields.Keys;

    public Tensor this[string field] => _fields.TryGetValue(field, out var tensor)
        ? tensor
        : throw new KeyNotFoundException(
            $"The batch has no field '{field}'. Fields present: {string.Join(", ", _fields.Keys)}.");

    public bool Contains(string field) => _fields.ContainsKey(field);

    public Interaction Add(string field, Tensor tensor)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(field);
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.dim() == 0)
            throw new ArgumentException($"Field '{field}' must have a batch dimension.", nameof(tensor));
        long rows = tensor.shape[0];
        if (_fields.Count > 0 && rows != Count)
            throw new ArgumentException($"Field '{field}' has {rows} rows but the batch has {Count}.", nameof(tensor));
        if (!_fields.TryAdd(field, tensor))
            throw new ArgumentException($"The batch already has a field '{field}'.", nameof(field));
        Count = rows;
        return this;
    }

    /// <summary>A copy of this batch on <paramref name="device"/>; the original keeps its tensors.</summary>
    public Interaction To(Device device) => new(_fields.Select(f => KeyValuePair.Create(f.Key, f.Value.to(device))));

    public void Dispose()
    {
        foreach (var tensor in _fields.Values) tensor.Dispose();
        _fields.Clear();
    }
}
