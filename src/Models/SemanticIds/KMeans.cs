using static TorchSharp.torch;

namespace ReaSeq.Models.SemanticIds;

/// <summary>Lloyd's k-means seeded from a random sample of the points, on whatever device the points live.</summary>
public static class KMeans
{
    /// <summary>Returns k centroids [k, dim] for points [n, dim]. Needs no gradient; call under no_grad.</summary>
    public static Tensor Fit(Tensor points, int k, int iterations, Random random)
    {
        if (points.dim() != 2) throw new ArgumentException("Points must be a [n, dim] matrix.", nameof(points));
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be positive.");
        long n = points.shape[0];
        if (n == 0) throw new ArgumentException("k-means needs at least one point.", nameof(points));

        using var scope = NewDisposeScope();
        var centroids = SeedFromSample(points, k, random);
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            var assignment = SquaredDistances(points, centroids).argmin(1);
            var sums = zeros_like(centroids).index_add_(0, assignment, points, 1);
            var counts = assignment.bincount(null, k).to(points.dtype).unsqueeze(1);
            // An empty cluster keeps its previous centroid rather than collapsing to the origin.
            centroids = where(counts > 0, sums / counts.clamp_min(1), centroids);
        }
        return centroids.MoveToOuterDisposeScope();
    }

    /// <summary>Squared Euclidean distances [n, m] between rows of <paramref name="x"/> and rows of <paramref name="c"/>.</summary>
    public static Tensor SquaredDistances(Tensor x, Tensor c) =>
        (x.pow(2).sum(1, keepdim: true) - 2 * x.matmul(c.t()) + c.pow(2).sum(1).unsqueeze(0)).clamp_min(0);

    private static Tensor SeedFromSample(Tensor points, int k, Random random)
    {
        long n = points.shape[0];
        // Distinct points while there are enough; otherwise every point once and random repeats for the rest.
        var order = new long[n];
        for (long i = 0; i < n; i++) order[i] = i;
        random.Shuffle(order);
        var chosen = new long[k];
        for (int i = 0; i < k; i++) chosen[i] = i < n ? order[i] : random.NextInt64(n);
        var centroids = points.index_select(0, tensor(chosen, device: points.device)).clone();
        if (n < k)
        {
            // Duplicates are unavoidable, so nudge them apart to let training separate them.
            centroids = centroids + randn_like(centroids) * (points.std().item<float>() * 1e-2f + 1e-6f);
        }
        return centroids;
    }
}
