namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>Counts of gaps whose withheld item a method ranks within the top k, for each k.</summary>
public sealed class GbrHitRate(string method, IReadOnlyList<int> ks)
{
    private readonly long[] _hits = new long[ks.Count];

    public string Method { get; } = method;

    public IReadOnlyList<int> Ks { get; } = ks;

    public long Gaps { get; private set; }

    public void Add(IReadOnlyList<int> ranked, IReadOnlySet<int> truth)
    {
        Gaps++;
        for (int i = 0; i < Ks.Count; i++)
            if (GbrRecoveryMetrics.Hit(ranked, truth, Ks[i])) _hits[i]++;
    }

    /// <summary>HR@k as a fraction; NaN without gaps.</summary>
    public double At(int k)
    {
        int i = Ks.ToList().IndexOf(k);
        if (i < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "Not one of the measured k.");
        return Gaps == 0 ? double.NaN : (double)_hits[i] / Gaps;
    }
}
