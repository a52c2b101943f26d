using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;
using static ReaSeq.Tests.Sequence.SequenceTestData;

namespace ReaSeq.Tests.Sequence;

public sealed class SequenceMetricsTests
{
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

        using var detector = new SequenceDetector(new SequenceDetectorOptions { FixedTemporalThresholdMs = 100, BasketToleranceMs = 0, LearnOnline = false }, new SwingCooccurrenceModel(), meterFactory);
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
}
