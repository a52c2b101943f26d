using System.Diagnostics.Metrics;

namespace ReaSeq.Processors.Sequence;

/// <summary>
/// System.Diagnostics.Metrics instruments of the sequence processor (meter "ReaSeq.Sequence").
/// Counters count decisions as they are first made; re-evaluations after out-of-order inserts are only
/// reflected in <see cref="SequenceDetector.GetStatistics"/> and in the fill-ratio gauges.
/// </summary>
internal sealed class SequenceMetrics : IDisposable
{
    private static readonly string[] StatusNames = Enum.GetNames<ClickStatus>().Select(ToSnakeCase).ToArray();
    private static readonly string[] VariantNames = Enumerable.Range(0, SequenceStatisticsAccumulator.VariantCount)
        .Select(v => SequenceStatisticsAccumulator.VariantName((DetectionVariant)v)).ToArray();

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _events;
    private readonly Counter<long> _gaps;
    private readonly Counter<long> _labeled;
    private readonly Histogram<double> _deltaT;
    private readonly Histogram<int> _rank;

    public SequenceMetrics(IMeterFactory? meterFactory, Func<IEnumerable<Measurement<long>>> thresholds,
        Func<IEnumerable<Measurement<double>>> fillRatios, Func<long> users)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(SequenceDetector.MeterName) ?? new Meter(SequenceDetector.MeterName);
        _events = _meter.CreateCounter<long>("reaseq.sequence.events", "{event}", "Clicks processed, by outcome.");
        _gaps = _meter.CreateCounter<long>("reaseq.sequence.gaps", "{gap}", "Gaps detected on new transitions, by variant.");
        _labeled = _meter.CreateCounter<long>("reaseq.sequence.labeled_positions", "{position}", "Self-supervised labeled positions marked.");
        _deltaT = _meter.CreateHistogram<double>("reaseq.sequence.delta_t", "s", "Gap to the previous event of the user.");
        _rank = _meter.CreateHistogram<int>("reaseq.sequence.rank", "{rank}", "Rank of the observed next item under the collaborative model.");
        _meter.CreateObservableGauge("reaseq.sequence.td_threshold", thresholds, "ms", "Temporal-discontinuity threshold T, by domain.");
        _meter.CreateObservableGauge("reaseq.sequence.fill_ratio", fillRatios, "1", "Gaps per observed event, by variant.");
        _meter.CreateObservableUpDownCounter("reaseq.sequence.users", users, "{user}", "Users with retained state.");
    }

    public static string VariantTag(int variant) => VariantNames[variant];

    public void Event(ClickStatus status)
    {
        if (_events.Enabled) _events.Add(1, new KeyValuePair<string, object?>("status", StatusNames[(int)status]));
    }

    public void NewTransition(in Transition transition)
    {
        if (_gaps.Enabled)
        {
            for (var v = 0; v < VariantNames.Length; v++)
                if (((int)transition.GapIn & (1 << v)) != 0) _gaps.Add(1, new KeyValuePair<string, object?>("variant", VariantNames[v]));
        }

        if (_deltaT.Enabled) _deltaT.Record(transition.DeltaMs / 1000.0);
        if (_rank.Enabled && transition.RankStatus is Model.RankStatus.Ranked or Model.RankStatus.OutsideCandidates) _rank.Record(transition.Rank);
    }

    public void Labeled(long count)
    {
        if (count > 0 && _labeled.Enabled) _labeled.Add(count);
    }

    public void Dispose()
    {
        if (_ownsMeter) _meter.Dispose();
    }

    private static string ToSnakeCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
