using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;
using Xunit;
using static ReaSeq.Tests.Sequence.SequenceTestData;

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

    [Fact]
    public void Meter_publishes_events_gaps_and_the_threshold()
    {
        // A meter factory of our own keeps other tests' detectors (same meter name) out of the measurements.
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        var measurements = new List<(string Name, double Value, string? Tag)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SequenceDetector.MeterName && instrument.Meter.Scope == meterFactory) l.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? tag = null;
            foreach (var t in tags) tag = t.Value?.ToString();
            lock (measurements) measurements.Add((instrument.Name, value, tag));
        }
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        using var detector = new SequenceDetector(new SequenceDetectorOptions { FixedTemporalThresholdMs = 100, LearnOnline = false }, new SwingCooccurrenceModel(), meterFactory);
        detector.Process(Click("u", "e1", 0, 0, "a"));
        detector.Process(Click("u", "e2", 1, 5_000, "b"));
        detector.Process(Click("u", "e2", 1, 5_000, "b"));
        listener.RecordObservableInstruments();

        Assert.Equal(2, measurements.Count(m => m is { Name: "reaseq.sequence.events", Tag: "accepted" }));
        Assert.Single(measurements, m => m is { Name: "reaseq.sequence.events", Tag: "duplicate" });
        Assert.Single(measurements, m => m is { Name: "reaseq.sequence.gaps", Tag: "TDCD" });
        Assert.Single(measurements, m => m is { Name: "reaseq.sequence.delta_t", Value: 5.0 });
        Assert.Single(measurements, m => m is { Name: "reaseq.sequence.td_threshold", Value: 100, Tag: "" });
        Assert.Single(measurements, m => m is { Name: "reaseq.sequence.fill_ratio", Value: 0.5, Tag: "TD" });
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
