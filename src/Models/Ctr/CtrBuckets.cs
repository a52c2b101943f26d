using System.Text;

namespace ReaSeq.Models.Ctr;

/// <summary>
/// The side-feature bucketing shared by the trainer and the ranking API, so that both turn an item's category,
/// price and popularity into the same embedding rows (§2.2.2: "categorical attributes … continuous statistical
/// features (popularity, price)"). Bucket 0 always means unknown.
/// </summary>
public static class CtrBuckets
{
    public const int CategoryBuckets = 256;
    public const int PriceBuckets = 24;
    public const int PopularityBuckets = 24;

    /// <summary>
    /// A stable bucket in [1, <see cref="CategoryBuckets"/>) for a category name (FNV-1a over its UTF-8 bytes,
    /// case- and space-insensitive), 0 for none. Stable across processes, unlike string.GetHashCode.
    /// </summary>
    public static int CategoryBucket(string? category)
    {
        if (string.IsNullOrWhiteSpace(category)) return 0;
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(category.Trim().ToLowerInvariant()))
        {
            hash ^= b;
            hash *= 16777619;
        }
        return 1 + (int)(hash % (CategoryBuckets - 1));
    }

    /// <summary>The bucket of an item's category path: its leaf (most specific) category.</summary>
    public static int CategoryBucket(IReadOnlyList<string>? categoryPath) =>
        categoryPath is null || categoryPath.Count == 0 ? 0 : CategoryBucket(categoryPath[^1]);

    /// <summary>
    /// Half-octave buckets of a positive price (1 + floor(2·log2(1 + price)), capped), 0 for missing, zero,
    /// negative or non-finite prices. Prices spread over orders of magnitude; log buckets keep each one populated.
    /// </summary>
    public static int PriceBucket(double? price)
    {
        if (price is not { } p || !double.IsFinite(p) || p <= 0) return 0;
        int bucket = 1 + (int)Math.Floor(2 * Math.Log2(1 + p));
        return Math.Clamp(bucket, 1, PriceBuckets - 1);
    }

    /// <summary>Octave buckets of a click count so far: 0 for none, 1 + floor(log2(count)) otherwise, capped.</summary>
    public static int PopularityBucket(long count)
    {
        if (count <= 0) return 0;
        int bucket = 1 + (int)Math.Floor(Math.Log2(count));
        return Math.Clamp(bucket, 1, PopularityBuckets - 1);
    }
}
