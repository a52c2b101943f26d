using static TorchSharp.torch;

namespace ReaSeq.Models.SemanticIds;

/// <summary>
/// Lloyd's k-means with k-means++ seeding, on whatever device the points live. The seeding matters for the RQ-VAE
/// codebooks (paper Appendix C): a uniform sample of k points often draws several seeds from one dense cluster and
/// none from a small one, and Lloyd's iterations rarely repair that, so items of the missed cluster share a code.
/// </summary>
public static class KMeans
{
    /// <summary>Fewest points per centroid the RQ-VAE trainer accepts for initialising a codebook (see <see cref="RqVaeOptions.KMeansMinPointsPerCode"/>).</summary>
    public const int DefaultMinPointsPerCode = 4;

    /// <summary>Returns k centroids [k, dim] for points [n, dim]. Needs no gradient; call under no_grad.</summary>
    public static Tensor Fit(Tensor points, int k, int iterations, Random random)
    {
        if (points.dim() != 2) throw new ArgumentException("Points must be a [n, dim] matrix.", nameof(points));
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be positive.");
        long n = points.shape[0];
        if (n == 0) throw new ArgumentException("k-means needs at least one point.", nameof(points));

        using var scope = NewDisposeScope();
        var centroids = Seed(points, k, random);
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

    /// <summary>
    /// Picks <paramref name="count"/> indices into <paramref name="weights"/>, each with probability proportional to
    /// <paramref name="weights"/> (the D² weights of k-means++); uniformly when every weight is zero.
    /// </summary>
    public static long[] SampleProportional(Tensor weights, int count, Random random)
    {
        var w = weights.to(ScalarType.Float64).cpu().data<double>().ToArray();
        double total = w.Sum();
        var picks = new long[count];
        for (int i = 0; i < count; i++)
        {
            if (!(total > 0))
            {
                picks[i] = random.NextInt64(w.Length);
                continue;
            }
            double target = random.NextDouble() * total, running = 0;
            int chosen = w.Length - 1;
            for (int j = 0; j < w.Length; j++)
            {
                running += w[j];
                if (running >= target && w[j] > 0) { chosen = j; break; }
            }
            picks[i] = chosen;
        }
        return picks;
    }

    private static Tensor Seed(Tensor points, int k, Random random)
    {
        long n = points.shape[0];
        if (n < k)
        {
            // Fewer points than centroids: every point once and random repeats for the rest, nudged apart so that
            // training can separate them. (The RQ-VAE trainer refuses this case; KMeans itself stays total.)
            var chosen = new long[k];
            for (int i = 0; i < k; i++) chosen[i] = i < n ? i : random.NextInt64(n);
            var repeated = points.index_select(0, tensor(chosen, device: points.device)).clone();
            return repeated + randn_like(repeated) * (points.std().item<float>() * 1e-2f + 1e-6f);
        }

        // k-means++ (Arthur & Vassilvitskii 2007): each next seed is drawn with probability ∝ its squared distance
        // to the nearest seed so far, so every well-separated group of points gets a seed.
        var seeds = new long[k];
        seeds[0] = random.NextInt64(n);
        var nearest = SquaredDistances(points, points[seeds[0]].unsqueeze(0)).squeeze(1);
        for (int i = 1; i < k; i++)
        {
            seeds[i] = SampleProportional(nearest, 1, random)[0];
            nearest = minimum(nearest, SquaredDistances(points, points[seeds[i]].unsqueeze(0)).squeeze(1));
        }
        return points.index_select(0, tensor(seeds, device: points.device)).clone();
    }
}
