using ReaSeq.Processors.Sequence;

namespace ReaSeq.Tests.Sequence;

public sealed class GapQuantileSketchTests
{
    [Fact]
    public void Quantiles_are_within_the_relative_accuracy_of_the_exact_percentiles()
    {
        var random = new Random(2);
        var sketch = new GapQuantileSketch(relativeAccuracy: 0.02, maxWeight: 10_000_000);
        // Log-normal gaps spanning milliseconds to days, like real inter-click gaps.
        var gaps = Enumerable.Range(0, 50_000).Select(_ => (long)Math.Exp(8 + 3 * Normal(random))).ToArray();
        foreach (var gap in gaps) sketch.Add(gap);
        Array.Sort(gaps);
        foreach (var q in new[] { 0.5, 0.9, 0.95, 0.99 })
        {
            var exact = gaps[(int)Math.Floor(q * (gaps.Length - 1))];
            Assert.InRange(sketch.Quantile(q), exact * 0.98 - 1, exact * 1.02 + 1);
        }
        Assert.Equal(0, new GapQuantileSketch().Quantile(0.95));
    }

    [Fact]
    public void Halving_keeps_the_distribution_and_follows_drift()
    {
        var sketch = new GapQuantileSketch(0.02, maxWeight: 1_000);
        for (var i = 0; i < 5_000; i++) sketch.Add(100);
        Assert.InRange(sketch.TotalWeight, 500, 1_000);
        Assert.InRange(sketch.Quantile(0.5), 98, 102);
        for (var i = 0; i < 5_000; i++) sketch.Add(10_000);
        Assert.InRange(sketch.Quantile(0.5), 9_800, 10_200);
    }

    [Fact]
    public void Sketch_snapshot_round_trips_and_detects_corruption()
    {
        var sketch = new GapQuantileSketch();
        for (var i = 0; i < 1000; i++) sketch.Add(i * 37 % 5000);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) sketch.Write(writer);
        var bytes = stream.ToArray();
        var restored = GapQuantileSketch.Read(new BinaryReader(new MemoryStream(bytes)));
        Assert.Equal(sketch.Quantile(0.95), restored.Quantile(0.95));
        Assert.Equal(sketch.TotalWeight, restored.TotalWeight);
        bytes[^1] ^= 0x40;
        Assert.Throws<InvalidDataException>(() => GapQuantileSketch.Read(new BinaryReader(new MemoryStream(bytes))));
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
