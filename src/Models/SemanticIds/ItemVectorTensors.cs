using static TorchSharp.torch;

namespace ReaSeq.Models.SemanticIds;

/// <summary>Checks and packs item vectors into a [n, dim] float32 tensor.</summary>
internal static class ItemVectorTensors
{
    public static Tensor ToTensor(IReadOnlyList<float[]> vectors, int expectedDim, Device device)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        var flat = new float[checked(vectors.Count * expectedDim)];
        for (int i = 0; i < vectors.Count; i++)
        {
            var vector = vectors[i] ?? throw new ArgumentException($"Item vector {i} is null.", nameof(vectors));
            if (vector.Length != expectedDim)
                throw new ArgumentException($"Item vector {i} has {vector.Length} values, expected {expectedDim}.", nameof(vectors));
            for (int j = 0; j < vector.Length; j++)
            {
                if (!float.IsFinite(vector[j]))
                    throw new ArgumentException($"Item vector {i} has a non-finite value at position {j}.", nameof(vectors));
            }
            vector.CopyTo(flat, i * expectedDim);
        }
        return tensor(flat, new long[] { vectors.Count, expectedDim }, device: device);
    }

    public static int Dimension(IReadOnlyList<float[]> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Count == 0) throw new ArgumentException("At least one item vector is needed.", nameof(vectors));
        int dim = vectors[0]?.Length ?? 0;
        if (dim == 0) throw new ArgumentException("Item vector 0 is null or empty.", nameof(vectors));
        return dim;
    }
}
