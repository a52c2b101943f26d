using ReaSeq.Tools.Eval;

namespace ReaSeq.Tests.Eval;

public sealed class HitRateMetricTests
{
    // Six items on the unit circle at these angles (degrees); different lengths check that only direction counts.
    // Nearest neighbours (itself excluded), by angular distance:
    //   A: B C D E F    D: C E B A F    E: D C F B A    F: E D C B A
    private static readonly (string Id, double Degrees, float Length)[] Circle =
        [("A", 0, 1), ("B", 10, 2), ("C", 30, 0.5f), ("D", 60, 3), ("E", 100, 1), ("F", 180, 4)];

    private static ItemVectorTable Vectors(params (string Id, float[]? Vector)[] extra) =>
        new("test", Circle.Select(c => c.Id).Concat(extra.Select(e => e.Id)).ToList(),
            Circle.Select(c => (float[]?)[c.Length * (float)Math.Cos(c.Degrees * Math.PI / 180), c.Length * (float)Math.Sin(c.Degrees * Math.PI / 180)])
                .Concat(extra.Select(e => e.Vector)).ToList());

    private static readonly EvalUser[] Users =
    [
        new("u1", ["A"], ["C", "F"]),      // k=1 {B}: 0/2; k=2 {B,C}: 1/2; k=5: 2/2
        new("u2", ["D", "F"], ["E", "A"]), // k=1 {C,E}: 1/2; k=2 {C,E,D}: 1/2; k=5: 2/2
        new("u3", ["E"], ["B"]),           // k=1 {D}: 0; k=2 {D,C}: 0; k=5: 1/1
    ];

    [Fact]
    public void Hit_rate_is_the_share_of_user_target_pairs_found_in_the_union_of_per_item_top_k()
    {
        var result = HitRateMetric.Evaluate(Vectors(), Users, [1, 2, 5]);

        Assert.Equal(3, result.Users);
        Assert.Equal(5, result.Pairs);
        Assert.Equal([1.0 / 5, 2.0 / 5, 5.0 / 5], result.PerK.Select(p => p.HitRate), new Tolerance());
        Assert.Equal([1.0 / 6, 1.0 / 3, 1.0], result.PerK.Select(p => p.MacroRecall), new Tolerance());
        Assert.Equal((1.0 / 6 + 1.0 / 3 + 1.0) / 3, result.MacroRecall, 1e-12);
    }

    [Fact]
    public void Nearest_neighbours_follow_cosine_and_exclude_the_query()
    {
        var vectors = Vectors();
        string Ids(string query) => string.Concat(HitRateMetric.NearestNeighbours(vectors, vectors.IndexOf(query)!.Value, 5).Select(i => vectors.ItemIds[i]));
        Assert.Equal("BCDEF", Ids("A"));
        Assert.Equal("CEBAF", Ids("D"));
        Assert.Equal("DCFBA", Ids("E"));
        Assert.Equal("EDCBA", Ids("F"));
    }

    [Fact]
    public void Unrepresented_items_are_never_retrieved_and_count_as_misses()
    {
        // G has no vector, H a zero vector: neither can be found, neither can be a query.
        var vectors = Vectors(("G", null), ("H", [0f, 0f]));
        var users = new[] { new EvalUser("u1", ["A", "G"], ["G", "H", "B"]), new EvalUser("u2", ["H"], ["A"]) };

        var result = HitRateMetric.Evaluate(vectors, users, [1, 10]);

        Assert.Equal(6, vectors.Represented);
        Assert.Equal(4, result.Pairs);
        // k=1: u1 finds B through A; u2 has no usable query. k=10 cannot do better: G, H and u2's A stay out of reach.
        Assert.Equal([1.0 / 4, 1.0 / 4], result.PerK.Select(p => p.HitRate), new Tolerance());
        Assert.Equal([(1.0 / 3) / 2, (1.0 / 3) / 2], result.PerK.Select(p => p.MacroRecall), new Tolerance());
    }

    [Fact]
    public void Bad_input_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => HitRateMetric.Evaluate(Vectors(), [], [10]));
        Assert.Throws<ArgumentException>(() => HitRateMetric.Evaluate(Vectors(), Users, [0]));
        Assert.Throws<ArgumentException>(() => new ItemVectorTable("bad", ["A", "A"], [[1f], [2f]]));
        Assert.Throws<ArgumentException>(() => new ItemVectorTable("bad", ["A", "B"], [[1f], [1f, 2f]]));
    }

    private sealed class Tolerance : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-12;
        public int GetHashCode(double obj) => 0;
    }
}
