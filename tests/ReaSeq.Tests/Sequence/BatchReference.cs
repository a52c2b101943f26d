using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Tests.Sequence;

/// <summary>
/// A deliberately plain batch re-computation of the detector's rules, to check the incremental detector
/// against: it keeps every user's whole accepted sequence (unbounded, sorted by timestamp then arrival)
/// and, at the end, recomputes every transition and label from scratch. Only valid with a frozen model
/// and a fixed T, which make decisions independent of when they were taken.
/// </summary>
internal static class BatchReference
{
    public sealed record Entry(SequenceClick Click, long DeltaMs, GapReasonFlags Reasons, Prediction Prediction, double LabelDelta, bool Labeled, bool HasTransition);

    public sealed record Result(
        IReadOnlyList<ClickStatus> Statuses,
        IReadOnlyDictionary<string, List<Entry>> Users,
        long Transitions,
        long[] GapsPerVariant,
        long LabelCandidates,
        long Labeled);

    public static Result Run(IReadOnlyList<SequenceClick> clicks, SequenceDetectorOptions options, ICollaborativeModel model)
    {
        var threshold = options.FixedTemporalThresholdMs ?? throw new ArgumentException("The batch reference needs a fixed T.");
        var accepted = new Dictionary<string, List<SequenceClick>>();
        var arrivalIds = new Dictionary<string, List<string>>();
        var statuses = new List<ClickStatus>();

        foreach (var click in clicks)
        {
            if (string.IsNullOrEmpty(click.UserId) || string.IsNullOrEmpty(click.EventId) || string.IsNullOrEmpty(click.ItemId) || click.TimestampMs < 0)
            {
                statuses.Add(ClickStatus.RejectedInvalid);
                continue;
            }
            var list = accepted.TryGetValue(click.UserId, out var l) ? l : accepted[click.UserId] = [];
            var ids = arrivalIds.TryGetValue(click.UserId, out var i) ? i : arrivalIds[click.UserId] = [];

            if (ids.Skip(Math.Max(0, ids.Count - options.DeduplicationCapacity)).Contains(click.EventId))
            {
                statuses.Add(ClickStatus.Duplicate);
                continue;
            }
            if (list.Count > 0 && click.TimestampMs < list.Max(c => c.TimestampMs) - options.OutOfOrderToleranceMs)
            {
                statuses.Add(ClickStatus.RejectedTooLate);
                continue;
            }
            var position = list.Count(c => c.TimestampMs <= click.TimestampMs);
            var retained = Math.Min(list.Count, options.WindowSize);
            var windowPosition = position - (list.Count - retained);
            if (retained == options.WindowSize && windowPosition <= options.ContextLength)
            {
                statuses.Add(ClickStatus.RejectedOutsideWindow);
                continue;
            }
            statuses.Add(position < list.Count ? ClickStatus.AcceptedOutOfOrder : ClickStatus.Accepted);
            list.Insert(position, click);
            ids.Add(click.EventId);
        }

        var users = new Dictionary<string, List<Entry>>();
        long transitions = 0, labelCandidates = 0, labeled = 0;
        var gaps = new long[4];
        foreach (var (user, list) in accepted)
        {
            var entries = new List<Entry>();
            for (var m = 0; m < list.Count; m++)
            {
                var click = list[m];
                if (m == 0)
                {
                    entries.Add(new Entry(click, 0, GapReasonFlags.None, default, double.NaN, false, false));
                    continue;
                }
                var previous = list[m - 1];
                var delta = click.TimestampMs - previous.TimestampMs;
                var reasons = GapReasonFlags.None;
                if (delta > options.BasketToleranceMs && delta > threshold) reasons |= GapReasonFlags.Temporal;
                if (!string.IsNullOrEmpty(previous.Category) && !string.IsNullOrEmpty(click.Category) && previous.Category != click.Category)
                    reasons |= GapReasonFlags.Category;
                var prediction = model.Predict(Context(list, m, options.ContextLength, model), model.IndexOf(click.ItemId));
                if (prediction.Status is RankStatus.Ranked or RankStatus.OutsideCandidates && prediction.Rank > options.RankThreshold) reasons |= GapReasonFlags.Rank;
                entries.Add(new Entry(click, delta, reasons, prediction, double.NaN, false, true));

                transitions++;
                var td = (reasons & GapReasonFlags.Temporal) != 0;
                var cd = (reasons & GapReasonFlags.Category) != 0;
                var rank = (reasons & GapReasonFlags.Rank) != 0;
                if (td) gaps[0]++;
                if (cd) gaps[1]++;
                if (td || cd) gaps[2]++;
                if (td && cd && rank) gaps[3]++;
            }
            for (var j = 1; j + 1 < list.Count; j++)
            {
                var target = model.IndexOf(list[j + 1].ItemId);
                // Δ: the c items ending at x_j, against the same items with x_j removed (its slot contributes nothing).
                var with = Context(list, j + 1, options.ContextLength, model);
                var without = (int[])with.Clone();
                without[^1] = -1;
                var delta = model.LogProbability(with, target) - model.LogProbability(without, target);
                var isLabeled = delta > options.LabelThreshold;
                entries[j] = entries[j] with { LabelDelta = delta, Labeled = isLabeled };
                labelCandidates++;
                if (isLabeled) labeled++;
            }
            users[user] = entries;
        }
        return new Result(statuses, users, transitions, gaps, labelCandidates, labeled);
    }

    private static int[] Context(List<SequenceClick> list, int end, int length, ICollaborativeModel model) =>
        list.Skip(Math.Max(0, end - length)).Take(end - Math.Max(0, end - length)).Select(c => model.IndexOf(c.ItemId)).ToArray();
}
