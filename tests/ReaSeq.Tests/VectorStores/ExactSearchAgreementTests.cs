using ReaSeq.Contracts.Stores;
using ReaSeq.Processors.VectorStores;

namespace ReaSeq.Tests.VectorStores;

/// <summary>The SIMD, blocked, heap-based search must give the same top 10 as a plain double-precision loop.</summary>
public sealed class ExactSearchAgreementTests
{
    private const int Dimension = 384;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Top10_matches_a_scalar_brute_force_on_random_data(bool quantizedCandidates)
    {
        var random = new Random(2024);
        var vectors = Enumerable.Range(0, 1000).Select(_ => RandomVector(random)).ToArray();
        var queries = Enumerable.Range(0, 25).Select(_ => RandomVector(random)).ToArray();
        await using var index = new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions
        {
            Dimension = Dimension,
            InitialCapacity = 16,
            QuantizedCandidateSearch = quantizedCandidates,
        });
        await index.UpsertAsync(vectors.Select((vector, i) => new VectorPoint($"v{i}", vector)).ToList());

        var batched = await index.SearchBatchAsync(queries.Select(query => new VectorQuery(query, 10)).ToList());

        for (int q = 0; q < queries.Length; q++)
        {
            var expected = BruteForceTop(vectors, queries[q], 10, _ => true);
            var single = await index.SearchAsync(queries[q], 10);
            Assert.Equal(expected.Select(e => $"v{e.Row}"), single.Select(hit => hit.Id));
            Assert.Equal(expected.Select(e => $"v{e.Row}"), batched[q].Select(hit => hit.Id));
            Assert.Equal(expected.Select(e => (float)e.Score), single.Select(hit => hit.Score), (a, b) => Math.Abs(a - b) < 1e-5f);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Top10_still_matches_after_deletes_and_with_a_filter(bool quantizedCandidates)
    {
        var random = new Random(99);
        var vectors = Enumerable.Range(0, 1000).Select(_ => RandomVector(random)).ToArray();
        await using var index = new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions
        {
            Dimension = Dimension,
            QuantizedCandidateSearch = quantizedCandidates,
        });
        await index.UpsertAsync(vectors.Select((vector, i) =>
            new VectorPoint($"v{i}", vector, new Dictionary<string, string> { ["parity"] = (i % 2).ToString() })).ToList());
        var deleted = Enumerable.Range(0, 1000).Where(i => i % 7 == 0).ToHashSet();
        await index.DeleteAsync(deleted.Select(i => $"v{i}").ToList());

        for (int q = 0; q < 10; q++)
        {
            var query = RandomVector(random);
            var expectedAll = BruteForceTop(vectors, query, 10, row => !deleted.Contains(row));
            var expectedOdd = BruteForceTop(vectors, query, 10, row => !deleted.Contains(row) && row % 2 == 1);

            Assert.Equal(expectedAll.Select(e => $"v{e.Row}"), (await index.SearchAsync(query, 10)).Select(hit => hit.Id));
            Assert.Equal(expectedOdd.Select(e => $"v{e.Row}"),
                (await index.SearchAsync(query, 10, PayloadFilter.Equal("parity", "1"))).Select(hit => hit.Id));
        }
    }

    private static List<(int Row, double Score)> BruteForceTop(float[][] vectors, float[] query, int k, Func<int, bool> keep)
    {
        double queryNorm = Math.Sqrt(query.Sum(x => (double)x * x));
        var scored = new List<(int Row, double Score)>();
        for (int row = 0; row < vectors.Length; row++)
        {
            if (!keep(row))
            {
                continue;
            }

            double dot = 0, norm = 0;
            for (int i = 0; i < Dimension; i++)
            {
                dot += (double)vectors[row][i] * query[i];
                norm += (double)vectors[row][i] * vectors[row][i];
            }

            scored.Add((row, dot / (Math.Sqrt(norm) * queryNorm)));
        }

        return scored.OrderByDescending(s => s.Score).Take(k).ToList();
    }

    private static float[] RandomVector(Random random) =>
        Enumerable.Range(0, Dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
}
