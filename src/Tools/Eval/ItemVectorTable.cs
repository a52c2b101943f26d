using System.Numerics.Tensors;

namespace ReaSeq.Tools.Eval;

/// <summary>
/// One representation of the item pool: a vector per item. A null vector marks an item the method cannot
/// represent (e.g. never bought in training): it is neither retrieved nor used as a query.
/// </summary>
public sealed class ItemVectorTable
{
    private readonly Dictionary<string, int> _index;

    public ItemVectorTable(string method, IReadOnlyList<string> itemIds, IReadOnlyList<float[]?> vectors)
    {
        if (itemIds.Count != vectors.Count) throw new ArgumentException($"{itemIds.Count} ids but {vectors.Count} vectors");
        Method = method;
        ItemIds = itemIds;
        Dimension = vectors.FirstOrDefault(v => v is not null)?.Length ?? 0;
        _index = new Dictionary<string, int>(itemIds.Count, StringComparer.Ordinal);
        Normalized = new float[itemIds.Count][];
        for (int i = 0; i < itemIds.Count; i++)
        {
            if (!_index.TryAdd(itemIds[i], i)) throw new ArgumentException($"Item {itemIds[i]} appears twice");
            var v = vectors[i];
            if (v is null) continue;
            if (v.Length != Dimension) throw new ArgumentException($"Item {itemIds[i]} has {v.Length} dimensions, expected {Dimension}");
            float norm = TensorPrimitives.Norm(v);
            // A zero vector has no direction: cosine is undefined, so the item counts as unrepresented.
            if (norm > 0 && float.IsFinite(norm)) Normalized[i] = v.Select(x => x / norm).ToArray();
        }
    }

    public string Method { get; }
    public IReadOnlyList<string> ItemIds { get; }
    public int Dimension { get; }
    internal float[]?[] Normalized { get; }
    public int Represented => Normalized.Count(v => v is not null);
    public int? IndexOf(string itemId) => _index.TryGetValue(itemId, out var i) ? i : null;
}
