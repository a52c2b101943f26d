namespace ReaSeq.Tests.Models;

/// <summary>Synthetic item vectors drawn around random unit-length centres.</summary>
internal static class ClusteredVectors
{
    public static (float[][] Vectors, int[] Cluster) Generate(int count, int dim, int clusters, double noise, int seed)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, clusters).Select(_ => Normalise(Gaussian(random, dim, 1.0))).ToArray();
        var vectors = new float[count][];
        var cluster = new int[count];
        for (int i = 0; i < count; i++)
        {
            cluster[i] = i % clusters;
            var offset = Gaussian(random, dim, noise);
            vectors[i] = centres[cluster[i]].Select((value, j) => (float)(value + offset[j])).ToArray();
        }
        return (vectors, cluster);
    }

    private static double[] Gaussian(Random random, int dim, double sigma) =>
        Enumerable.Range(0, dim).Select(_ => sigma * random.NextGaussian()).ToArray();

    private static double[] Normalise(double[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }

    private static double NextGaussian(this Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
