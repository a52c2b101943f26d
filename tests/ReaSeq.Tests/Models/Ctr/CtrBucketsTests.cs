using ReaSeq.Models.Ctr;

namespace ReaSeq.Tests.Models.Ctr;

public sealed class CtrBucketsTests
{
    [Fact]
    public void Category_buckets_are_stable_case_insensitive_and_zero_for_none()
    {
        Assert.Equal(0, CtrBuckets.CategoryBucket((string?)null));
        Assert.Equal(0, CtrBuckets.CategoryBucket("  "));
        Assert.Equal(CtrBuckets.CategoryBucket("Home Decor"), CtrBuckets.CategoryBucket(" home decor "));
        Assert.NotEqual(CtrBuckets.CategoryBucket("Home Decor"), CtrBuckets.CategoryBucket("Kitchen"));
        Assert.Equal(CtrBuckets.CategoryBucket("Kitchen"), CtrBuckets.CategoryBucket(["Home", "Kitchen"]));
        // FNV-1a of "kitchen" pinned, so a change of hash (which would silently re-map a trained model's rows) fails here.
        Assert.Equal(1 + (int)(Fnv("kitchen") % (CtrBuckets.CategoryBuckets - 1)), CtrBuckets.CategoryBucket("Kitchen"));
        Assert.All(Enumerable.Range(0, 500).Select(i => CtrBuckets.CategoryBucket($"c{i}")),
            b => Assert.InRange(b, 1, CtrBuckets.CategoryBuckets - 1));
    }

    [Fact]
    public void Price_buckets_are_half_octaves_with_zero_for_missing_or_bad_prices()
    {
        Assert.Equal(0, CtrBuckets.PriceBucket(null));
        Assert.Equal(0, CtrBuckets.PriceBucket(0));
        Assert.Equal(0, CtrBuckets.PriceBucket(-3));
        Assert.Equal(0, CtrBuckets.PriceBucket(double.NaN));
        Assert.Equal(3, CtrBuckets.PriceBucket(1)); // 1 + floor(2·log2 2)
        Assert.Equal(5, CtrBuckets.PriceBucket(3)); // 1 + floor(2·log2 4)
        Assert.True(CtrBuckets.PriceBucket(10) < CtrBuckets.PriceBucket(100));
        Assert.Equal(CtrBuckets.PriceBuckets - 1, CtrBuckets.PriceBucket(1e12));
    }

    [Fact]
    public void Popularity_buckets_are_octaves_of_the_count()
    {
        Assert.Equal(0, CtrBuckets.PopularityBucket(0));
        Assert.Equal(1, CtrBuckets.PopularityBucket(1));
        Assert.Equal(2, CtrBuckets.PopularityBucket(2));
        Assert.Equal(2, CtrBuckets.PopularityBucket(3));
        Assert.Equal(11, CtrBuckets.PopularityBucket(1024));
        Assert.Equal(CtrBuckets.PopularityBuckets - 1, CtrBuckets.PopularityBucket(long.MaxValue));
    }

    private static uint Fnv(string text)
    {
        uint hash = 2166136261;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 16777619;
        }
        return hash;
    }
}
