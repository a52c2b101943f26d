namespace ReaSeq.Models.Ctr;

/// <summary>AUC and GAUC as the paper reports them (§4.1.2, §4.2.4): GAUC is per-user AUC weighted by impressions.</summary>
public static class CtrAuc
{
    /// <summary>Mann–Whitney AUC with ties counted half; NaN unless both labels occur.</summary>
    public static double Auc(IReadOnlyList<float> scores, IReadOnlyList<float> labels)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        if (scores.Count != labels.Count) throw new ArgumentException("scores and labels differ in length.", nameof(labels));
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double positives = 0, negatives = 0, rankSum = 0;
        int start = 0;
        while (start < order.Length)
        {
            int end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]]) end++;
            double averageRank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++)
            {
                if (labels[order[k]] > 0.5f)
                {
                    positives++;
                    rankSum += averageRank;
                }
                else
                {
                    negatives++;
                }
            }
            start = end + 1;
        }
        if (positives == 0 || negatives == 0) return double.NaN;
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }

    /// <summary>Σ_u n_u·AUC_u / Σ_u n_u over users whose impressions hold both labels; NaN when no user does.</summary>
    public static double Gauc(IReadOnlyList<string> users, IReadOnlyList<float> scores, IReadOnlyList<float> labels)
    {
        ArgumentNullException.ThrowIfNull(users);
        double weighted = 0, weights = 0;
        foreach (var group in Enumerable.Range(0, users.Count).GroupBy(i => users[i], StringComparer.Ordinal))
        {
            var rows = group.ToArray();
            double auc = Auc(rows.Select(i => scores[i]).ToArray(), rows.Select(i => labels[i]).ToArray());
            if (double.IsNaN(auc)) continue;
            weighted += rows.Length * auc;
            weights += rows.Length;
        }
        return weights == 0 ? double.NaN : weighted / weights;
    }
}
