using ReaSeq.Models.Ctr;

namespace ReaSeq.Tests.Trainer;

public sealed class CtrEvaluationTests
{
    [Fact]
    public void Auc_counts_ordered_pairs_and_ties_half()
    {
        Assert.Equal(1.0, CtrAuc.Auc([0.9f, 0.1f], [1f, 0f]));
        Assert.Equal(0.0, CtrAuc.Auc([0.1f, 0.9f], [1f, 0f]));
        Assert.Equal(0.5, CtrAuc.Auc([0.5f, 0.5f], [1f, 0f]));
        // Positives 0.8, 0.4; negatives 0.6, 0.2: pairs won 2 + 1 of 4.
        Assert.Equal(0.75, CtrAuc.Auc([0.8f, 0.6f, 0.4f, 0.2f], [1f, 0f, 1f, 0f]));
        Assert.True(double.IsNaN(CtrAuc.Auc([0.3f, 0.4f], [1f, 1f])));
    }

    [Fact]
    public void Gauc_weights_each_users_auc_by_impressions_and_skips_one_label_users()
    {
        string[] users = ["u1", "u1", "u2", "u2", "u2", "u2", "u3"];
        float[] scores = [0.9f, 0.1f, 0.1f, 0.9f, 0.2f, 0.8f, 0.5f];
        float[] labels = [1f, 0f, 1f, 0f, 1f, 0f, 1f];
        // u1: AUC 1 (2 impressions); u2: AUC 0 (4); u3 has one label only.
        Assert.Equal(2.0 / 6.0, CtrAuc.Gauc(users, scores, labels), 9);
    }

    [Fact]
    public void Rolling_window_keeps_the_newest_impressions_and_splits_the_tail_third_of_users_by_activity()
    {
        var evaluation = new RollingCtrEvaluation(window: 6);
        // Old impressions the window forgets: perfectly wrong scores.
        for (int i = 0; i < 4; i++) evaluation.Add("old", i % 2 == 0 ? 0.1f : 0.9f, i % 2 == 0 ? 1f : 0f, 1);
        // Sparse user s (activity 1) ranked wrongly; active users a and b (activity 50, 80) ranked rightly.
        evaluation.Add("s", 0.2f, 1f, 1);
        evaluation.Add("s", 0.7f, 0f, 1);
        evaluation.Add("a", 0.9f, 1f, 50);
        evaluation.Add("a", 0.3f, 0f, 50);
        evaluation.Add("b", 0.8f, 1f, 80);
        evaluation.Add("b", 0.1f, 0f, 80);

        var snapshot = evaluation.Evaluate();

        Assert.Equal(10, snapshot.SamplesSeen);
        Assert.Equal(6, snapshot.Overall.Samples);
        Assert.Equal(3, snapshot.Overall.Users);
        Assert.Equal(1, snapshot.Sparse.Users);
        Assert.Equal(0.0, snapshot.Sparse.Gauc);
        Assert.Equal(1.0, snapshot.Active.Gauc);
        Assert.Equal(2.0 / 3.0, snapshot.Overall.Gauc, 9);
        Assert.Equal(0.0, snapshot.ToDictionary()["sparse_gauc"]);
    }
}
