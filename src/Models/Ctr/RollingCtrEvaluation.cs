namespace ReaSeq.Models.Ctr;

/// <summary>
/// Prequential evaluation over the last <c>window</c> scored impressions: each score was made before the model
/// trained on its impression. A user's activity is the click count they had at their latest impression in the
/// window; the tail third of the window's users by activity are "sparse" (§4.2.1), the rest "active".
/// </summary>
public sealed class RollingCtrEvaluation
{
    private readonly record struct Entry(string User, float Score, float Label, long Activity);

    private readonly Entry[] _ring;
    private readonly object _gate = new();
    private int _next;
    private int _count;
    private long _seen;

    public RollingCtrEvaluation(int window)
    {
        if (window <= 0) throw new ArgumentOutOfRangeException(nameof(window), window, "The window must hold at least one impression.");
        _ring = new Entry[window];
    }

    public long SamplesSeen
    {
        get
        {
            lock (_gate) return _seen;
        }
    }

    public void Add(string user, float score, float label, long activity)
    {
        lock (_gate)
        {
            _ring[_next] = new Entry(user, score, label, activity);
            _next = (_next + 1) % _ring.Length;
            _count = Math.Min(_count + 1, _ring.Length);
            _seen++;
        }
    }

    public CtrEvaluationSnapshot Evaluate()
    {
        Entry[] entries;
        long seen;
        lock (_gate)
        {
            entries = new Entry[_count];
            for (int i = 0; i < _count; i++) entries[i] = _ring[(_next - _count + i + _ring.Length) % _ring.Length];
            seen = _seen;
        }
        if (entries.Length == 0) return new CtrEvaluationSnapshot(seen, CtrEvaluationSnapshot.Empty, CtrEvaluationSnapshot.Empty, CtrEvaluationSnapshot.Empty);
        var activity = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in entries) activity[e.User] = e.Activity;
        var sparseUsers = activity.OrderBy(a => a.Value).ThenBy(a => a.Key, StringComparer.Ordinal)
            .Take((activity.Count + 2) / 3).Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
        return new CtrEvaluationSnapshot(seen,
            Segment(entries),
            Segment(entries.Where(e => sparseUsers.Contains(e.User)).ToArray()),
            Segment(entries.Where(e => !sparseUsers.Contains(e.User)).ToArray()));
    }

    private static CtrSegmentMetrics Segment(Entry[] entries)
    {
        if (entries.Length == 0) return CtrEvaluationSnapshot.Empty;
        var scores = entries.Select(e => e.Score).ToArray();
        var labels = entries.Select(e => e.Label).ToArray();
        var users = entries.Select(e => e.User).ToArray();
        return new CtrSegmentMetrics(CtrAuc.Auc(scores, labels), CtrAuc.Gauc(users, scores, labels), entries.Length,
            users.Distinct(StringComparer.Ordinal).Count());
    }
}
