using ReaSeq.Tools.Eval;

namespace ReaSeq.Tests.Eval;

public sealed class SameProductHitRateTests
{
    [Theory]
    [InlineData("85123A", "85123")]
    [InlineData("85123a", "85123")]
    [InlineData("85123", "85123")]
    [InlineData("84406B", "84406")]
    [InlineData("15056BL", "15056")]
    [InlineData("POST", "POST")]
    [InlineData("C2", "C2")]
    [InlineData("DCGS0003", "DCGS0003")]
    public void Product_is_the_stock_code_without_its_letter_suffix(string code, string product) =>
        Assert.Equal(product, SameProductHitRate.ProductOf(code));

    [Fact]
    public void Counts_queries_with_another_variant_and_misses_unrepresented_ones()
    {
        // 10A's nearest item is 10B (hit at 1); 20A's nearest is 30, then 20B (hit at 2); 20B's own variant 20A is
        // second; 40A has no vector (a miss at every k); 30 and 40? have no other variant and are not queries.
        string[] ids = ["10A", "10B", "20A", "20B", "30", "40A", "40B"];
        float[]?[] vectors =
        [
            [1f, 0f, 0f], [0.9f, 0.1f, 0f], [0f, 1f, 0f], [0f, 0.6f, 0.8f], [0f, 0.95f, 0.3f], null, [0f, 0f, -1f],
        ];

        var result = SameProductHitRate.Evaluate(new ItemVectorTable("m", ids, vectors), [1, 2, 10]);

        Assert.Equal(6, result.Queries);
        Assert.Equal(5, result.RepresentedQueries);
        Assert.Equal(3, result.Products);
        // Hits at 1: 10A, 10B. At 2: + 20A, 20B. At 10: 40B finds nothing (40A has no vector) → still 4 of 6.
        Assert.Equal([2 / 6.0, 4 / 6.0, 4 / 6.0], result.PerK.Select(p => p.HitRate));
    }
}
