using ReaSeq.Contracts.Stores;

namespace ReaSeq.Processors.VectorStores;

/// <summary>Input checks every backend applies, so bad input fails the same way whatever the store.</summary>
public static class VectorStoreGuards
{
    public static void ValidateDimension(int dimension)
    {
        if (dimension <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "Vector dimension must be positive.");
        }
    }

    public static void ValidatePoint(VectorPoint point, int dimension)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (string.IsNullOrEmpty(point.Id))
        {
            throw new ArgumentException("Point id must be a non-empty string.", nameof(point));
        }

        ValidateVector(point.Vector, dimension, $"vector of point '{point.Id}'");
        ArgumentNullException.ThrowIfNull(point.Payload, nameof(point.Payload));
        if (point.Payload.ContainsKey(VectorPoint.ReservedPayloadKey))
        {
            throw new ArgumentException(
                $"Payload of point '{point.Id}' uses the reserved key '{VectorPoint.ReservedPayloadKey}'.", nameof(point));
        }
    }

    /// <summary>Checks length and that the vector can be normalised (finite, not all zero).</summary>
    public static void ValidateVector(ReadOnlySpan<float> vector, int dimension, string what)
    {
        if (vector.Length != dimension)
        {
            throw new ArgumentException($"The {what} has {vector.Length} dimensions; this store holds {dimension}-dimensional vectors.");
        }

        double squaredNorm = 0;
        foreach (var component in vector)
        {
            if (!float.IsFinite(component))
            {
                throw new ArgumentException($"The {what} contains a NaN or infinite component.");
            }

            squaredNorm += (double)component * component;
        }

        if (squaredNorm == 0)
        {
            throw new ArgumentException($"The {what} is all zeros; cosine similarity is undefined for it.");
        }
    }

    public static void ValidateQuery(ReadOnlySpan<float> vector, int limit, PayloadFilter? filter, int dimension)
    {
        ValidateVector(vector, dimension, "query vector");
        if (limit <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "Search limit must be positive.");
        }

        if (filter is not null)
        {
            ArgumentNullException.ThrowIfNull(filter.MustEqual, nameof(filter.MustEqual));
        }
    }
}
