namespace ReaSeq.Processors.Knowledge.Agents.Extractive;

/// <summary>Average-linkage agglomerative clustering of unit vectors by cosine similarity. Deterministic.</summary>
internal static class AgglomerativeClustering
{
    /// <summary>Merges the most similar pair of clusters while their average similarity is at least <paramref name="threshold"/>.</summary>
    public static List<List<int>> Cluster(IReadOnlyList<float[]> vectors, double threshold)
    {
        int n = vectors.Count;
        var similarity = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
                similarity[i, j] = similarity[j, i] = Dot(vectors[i], vectors[j]);
        }

        var clusters = Enumerable.Range(0, n).Select(i => new List<int> { i }).ToList();
        var alive = Enumerable.Range(0, n).ToList(); // cluster slot ids still active
        while (alive.Count > 1)
        {
            double best = double.NegativeInfinity;
            int bestA = -1, bestB = -1;
            for (int x = 0; x < alive.Count; x++)
            {
                for (int y = x + 1; y < alive.Count; y++)
                {
                    if (similarity[alive[x], alive[y]] > best)
                    {
                        best = similarity[alive[x], alive[y]];
                        bestA = alive[x];
                        bestB = alive[y];
                    }
                }
            }

            if (best < threshold) break;

            int sizeA = clusters[bestA].Count, sizeB = clusters[bestB].Count;
            foreach (int other in alive)
            {
                if (other == bestA || other == bestB) continue;
                double merged = (sizeA * similarity[bestA, other] + sizeB * similarity[bestB, other]) / (sizeA + sizeB);
                similarity[bestA, other] = similarity[other, bestA] = merged;
            }
            clusters[bestA].AddRange(clusters[bestB]);
            clusters[bestA].Sort();
            alive.Remove(bestB);
        }
        return alive.Select(slot => clusters[slot]).ToList();
    }

    /// <summary>Index (into <paramref name="members"/>) of the member with the highest mean similarity to the others.</summary>
    public static int MostCentral(IReadOnlyList<int> members, IReadOnlyList<float[]> vectors, IReadOnlyList<double> tieBreak)
    {
        int best = 0;
        double bestScore = double.NegativeInfinity;
        for (int i = 0; i < members.Count; i++)
        {
            double score = 0;
            for (int j = 0; j < members.Count; j++)
                if (i != j) score += Dot(vectors[members[i]], vectors[members[j]]);
            score += 1e-6 * tieBreak[members[i]];
            if (score > bestScore + 1e-12)
            {
                bestScore = score;
                best = i;
            }
        }
        return best;
    }

    public static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * (double)b[i];
        return sum;
    }
}
