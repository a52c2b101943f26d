using System.Numerics;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Processors.Sequence;

/// <summary>The mutable counters behind <see cref="SequenceStatistics"/>.</summary>
internal sealed class SequenceStatisticsAccumulator
{
    public const int VariantCount = 4;
    private const int DeltaBuckets = 65;
    private const int RankBuckets = 33;

    public long Received;
    public long Accepted;
    public long OutOfOrder;
    public long Duplicates;
    public long TooLate;
    public long OutsideWindow;
    public long Invalid;
    public long Transitions;
    public long LabelCandidates;
    public long Labeled;
    public readonly long[] Gaps = new long[VariantCount];
    private readonly long[] _reasons = new long[8];
    private readonly long[] _delta = new long[DeltaBuckets];
    private readonly long[] _rank = new long[RankBuckets];
    private readonly long[] _unranked = new long[4];

    public static string VariantName(DetectionVariant variant) => variant switch
    {
        DetectionVariant.Temporal => "TD",
        DetectionVariant.Category => "CD",
        DetectionVariant.TemporalOrCategory => "TDCD",
        DetectionVariant.TemporalAndCategoryThenRank => "TD∩CD+RANK",
        _ => variant.ToString(),
    };

    public static string ReasonName(GapReasonFlags reasons)
    {
        if (reasons == GapReasonFlags.None) return "none";
        var parts = new List<string>(3);
        if ((reasons & GapReasonFlags.Temporal) != 0) parts.Add("TD");
        if ((reasons & GapReasonFlags.Category) != 0) parts.Add("CD");
        if ((reasons & GapReasonFlags.Rank) != 0) parts.Add("RANK");
        return string.Join('+', parts);
    }

    public static int DeltaBucket(long deltaMs) => deltaMs <= 0 ? 0 : 64 - BitOperations.LeadingZeroCount((ulong)deltaMs);

    public static int RankBucket(int rank) => Math.Min(RankBuckets - 1, 32 - BitOperations.LeadingZeroCount((uint)Math.Max(1, rank)));

    /// <summary>Adds (sign = +1) or withdraws (sign = −1) one transition decision.</summary>
    public void Count(in Transition transition, int sign)
    {
        Transitions += sign;
        for (var v = 0; v < VariantCount; v++)
            if (((int)transition.GapIn & (1 << v)) != 0) Gaps[v] += sign;
        _reasons[(int)transition.Reasons] += sign;
        _delta[DeltaBucket(transition.DeltaMs)] += sign;
        if (transition.RankStatus is RankStatus.Ranked or RankStatus.OutsideCandidates) _rank[RankBucket(transition.Rank)] += sign;
        if (transition.RankStatus != RankStatus.Ranked) _unranked[(int)transition.RankStatus] += sign;
    }

    public void CountLabel(bool labeled, int sign)
    {
        LabelCandidates += sign;
        if (labeled) Labeled += sign;
    }

    public double FillRatio(int variant) => Accepted == 0 ? 0 : (double)Gaps[variant] / Accepted;

    public SequenceStatistics ToRecord(DetectionVariant configured, long users, IReadOnlyList<TemporalThresholdInfo> thresholds)
    {
        var variants = new VariantStatistics[VariantCount];
        for (var v = 0; v < VariantCount; v++) variants[v] = new((DetectionVariant)v, VariantName((DetectionVariant)v), Gaps[v], FillRatio(v));
        var reasons = new Dictionary<string, long>();
        for (var r = 0; r < _reasons.Length; r++) reasons[ReasonName((GapReasonFlags)r)] = _reasons[r];
        var delta = new List<HistogramBucket>();
        for (var b = 0; b < DeltaBuckets; b++)
        {
            if (_delta[b] == 0) continue;
            delta.Add(b == 0 ? new(0, 1, _delta[0]) : new(1L << (b - 1), b == 64 ? long.MaxValue : 1L << b, _delta[b]));
        }
        var rank = new List<HistogramBucket>();
        for (var b = 1; b < RankBuckets; b++)
            if (_rank[b] != 0) rank.Add(new(1L << (b - 1), 1L << b, _rank[b]));
        var unranked = new Dictionary<RankStatus, long>
        {
            [RankStatus.UnknownItem] = _unranked[(int)RankStatus.UnknownItem],
            [RankStatus.NoContextEvidence] = _unranked[(int)RankStatus.NoContextEvidence],
            [RankStatus.OutsideCandidates] = _unranked[(int)RankStatus.OutsideCandidates],
        };
        return new SequenceStatistics(configured, Received, Accepted, OutOfOrder, Duplicates, TooLate, OutsideWindow, Invalid, users,
            Transitions, variants, reasons, delta, rank, unranked, LabelCandidates, Labeled, thresholds);
    }

    public void Write(BinaryWriter writer)
    {
        foreach (var value in new[] { Received, Accepted, OutOfOrder, Duplicates, TooLate, OutsideWindow, Invalid, Transitions, LabelCandidates, Labeled })
            writer.Write(value);
        foreach (var array in new[] { Gaps, _reasons, _delta, _rank, _unranked })
            foreach (var value in array) writer.Write(value);
    }

    public void Read(BinaryReader reader)
    {
        Received = reader.ReadInt64();
        Accepted = reader.ReadInt64();
        OutOfOrder = reader.ReadInt64();
        Duplicates = reader.ReadInt64();
        TooLate = reader.ReadInt64();
        OutsideWindow = reader.ReadInt64();
        Invalid = reader.ReadInt64();
        Transitions = reader.ReadInt64();
        LabelCandidates = reader.ReadInt64();
        Labeled = reader.ReadInt64();
        foreach (var array in new[] { Gaps, _reasons, _delta, _rank, _unranked })
            for (var i = 0; i < array.Length; i++) array[i] = reader.ReadInt64();
    }
}
