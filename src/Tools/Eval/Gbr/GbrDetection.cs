using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>The gap detection of one replay: every user's decided sequence and the detector's statistics.</summary>
public sealed record GbrDetection(IReadOnlyList<GbrUserSequence> Users, SequenceStatistics Statistics)
{
    /// <summary>
    /// Runs one <see cref="SequenceDetector"/> (so one T per domain, as the shared deployment-wide T of issue 9 §1)
    /// over time-ordered clicks with a frozen pre-trained collaborative model, and keeps each event's last decision:
    /// a decision can still change while the event is in the detector's window (an equal-timestamp insertion
    /// re-evaluates its neighbours), so every changed range a click reports overwrites what was recorded.
    /// </summary>
    public static GbrDetection Run(IEnumerable<SequenceClick> clicks, SequenceDetectorOptions options, ICollaborativeModel model, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(clicks);
        ArgumentNullException.ThrowIfNull(options);
        var decided = new Dictionary<string, GbrEvent>(StringComparer.Ordinal);
        var order = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        using var detector = new SequenceDetector(options, model);
        long n = 0;
        foreach (var click in clicks)
        {
            if ((++n & 0xFFFF) == 0) ct.ThrowIfCancellationRequested();
            var result = detector.Process(click);
            if (!result.IsAccepted) continue;
            if (!order.TryGetValue(click.UserId, out var events)) order[click.UserId] = events = [];
            events.Add(click.EventId);
            var window = result.Sequence!;
            for (int i = Math.Max(0, result.FirstChanged); i <= result.LastChanged && i < window.Count; i++) Record(window[i], decided);
            Record(window[result.Position], decided);
        }
        var users = order.OrderBy(u => u.Key, StringComparer.Ordinal)
            .Select(u => new GbrUserSequence(u.Key, u.Value.Select(id => decided[id]).OrderBy(e => e.TsMs).ToList()))
            .ToList();
        return new GbrDetection(users, detector.GetStatistics());
    }

    private static void Record(in WindowEntry entry, Dictionary<string, GbrEvent> decided) =>
        decided[entry.EventId] = new GbrEvent(entry.EventId, entry.ItemId, entry.TimestampMs, entry.Incoming?.GapIn ?? DetectionVariantFlags.None, entry.IsLabeled);
}
