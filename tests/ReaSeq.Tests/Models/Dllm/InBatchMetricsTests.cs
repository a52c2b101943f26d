using ReaSeq.Models.Dllm;
using ReaSeq.Tests.Infrastructure;
using static TorchSharp.torch;

namespace ReaSeq.Tests.Models.Dllm;

[Trait(Tier.Name, Tier.Integration)]
[Collection(TorchCollection.Name)]
public sealed class InBatchMetricsTests
{
    private const int Precision = 9;

    [Fact]
    public void Mask_metrics_average_per_sample_perplexity_and_accuracy_over_positive_plus_other_sequences_negatives()
    {
        // Three sequences; each drew one item as everyone else's negative. Sequence 2 has no scored token.
        using var negatives = Matrix([1, 0], [0, 1], [-1, 0]);
        // Norms other than 1 check that scoring is by cosine.
        using var predictions = Matrix([2, 0], [0, 3], [0, 1]);
        using var positives = Matrix([1, 0], [5, 0], [0, 1]);
        using var sequences = tensor(new long[] { 0, 0, 1 });

        var result = InBatchMetrics.Score(predictions, positives, sequences, negatives, temperature: 1);

        // Token 0 (seq 0): positive cos 1; negatives from seq 1 (cos 0) and seq 2 (cos -1): a hit.
        double entropy0 = Math.Log(Math.E + 1 + 1 / Math.E) - 1;
        // Token 1 (seq 0): positive cos 0; seq 1's negative scores 1: a miss.
        double entropy1 = Math.Log(1 + Math.E + 1);
        // Token 2 (seq 1): positive cos 1; seq 0's and seq 2's negatives both cos 0: a hit.
        double entropy2 = Math.Log(Math.E + 2) - 1;
        double expectedPerplexity = (Math.Exp((entropy0 + entropy1) / 2) + Math.Exp(entropy2)) / 2;

        Assert.Equal(expectedPerplexity, result.Perplexity, Precision);
        Assert.Equal((0.5 + 1.0) / 2, result.Accuracy, Precision);
        Assert.Equal(2, result.Samples);
        Assert.Equal(3, result.Tokens);
    }

    [Fact]
    public void Temperature_divides_the_cosine_logits()
    {
        using var negatives = Matrix([0, 0], [0, 1]);
        using var predictions = Matrix([1, 0]);
        using var positives = Matrix([1, 0]);
        using var sequences = tensor(new long[] { 0 });

        var result = InBatchMetrics.Score(predictions, positives, sequences, negatives, temperature: 0.5);

        // Candidates: the positive at 1/0.5 = 2 and sequence 1's negative at 0; sequence 0's own draw is not a negative.
        Assert.Equal(1 + Math.Exp(-2), result.Perplexity, Precision);
        Assert.Equal(1.0, result.Accuracy, Precision);
    }

    [Fact]
    public void A_negative_that_ties_with_the_positive_is_a_miss_unless_it_is_the_same_item()
    {
        using var negatives = Matrix([0, 0], [0, 1], [1, 0]);
        // The prediction is equally close to its positive (1, 0) and to sequence 1's draw (0, 1): a tie, so a miss.
        // Sequence 2 drew the positive item itself: an accidental hit, left out.
        using var predictions = Matrix([1, 1]);
        using var positives = Matrix([1, 0]);
        using var sequences = tensor(new long[] { 0 });

        var result = InBatchMetrics.Score(predictions, positives, sequences, negatives, temperature: 1);

        Assert.Equal(0.0, result.Accuracy, Precision);
        Assert.Equal(2.0, result.Perplexity, Precision);
    }

    [Fact]
    public void Fill_positive_is_the_closest_mask_truth_of_its_own_sequence_only()
    {
        using var maskTargets = Matrix([1, 0], [0, -1], [0, 1]);
        using var maskSequences = tensor(new long[] { 0, 0, 1 });
        // Fill 0 is closest to (1, 0); fill 1 would be closest to sequence 1's (0, 1) but must pick from sequence 0;
        // fill 2 belongs to sequence 2, which has no mask.
        using var fills = Matrix([1, 0.9f], [0, 1], [1, 1]);
        using var fillSequences = tensor(new long[] { 0, 0, 2 });

        var (positives, hasPositive) = InBatchMetrics.ClosestTruths(fills, fillSequences, maskTargets, maskSequences);
        using (positives)
        using (hasPositive)
        {
            Assert.Equal(new float[] { 1, 0, 1, 0, 0, 0 }, positives.data<float>().ToArray());
            Assert.Equal(new[] { true, true, false }, hasPositive.data<bool>().ToArray());
        }
    }

    [Fact]
    public void Fill_metrics_score_fills_against_their_closest_truth_with_the_mask_negatives()
    {
        using var maskTargets = Matrix([1, 0], [0, -1], [0, 1]);
        using var maskSequences = tensor(new long[] { 0, 0, 1 });
        using var fills = Matrix([1, 0.9f], [0, 1]);
        using var fillSequences = tensor(new long[] { 0, 0 });
        using var negatives = Matrix([0, -1], [0, 1]);

        var (positives, _) = InBatchMetrics.ClosestTruths(fills, fillSequences, maskTargets, maskSequences);
        using (positives)
        {
            var result = InBatchMetrics.Score(fills, positives, fillSequences, negatives, temperature: 1);

            double norm = Math.Sqrt(1 + 0.81);
            // Fill 0: positive (1, 0) at cos 1/norm beats sequence 1's (0, 1) at 0.9/norm.
            double entropy0 = Math.Log(Math.Exp(1 / norm) + Math.Exp(0.9 / norm)) - 1 / norm;
            // Fill 1: positive (1, 0) at cos 0 loses to (0, 1) at cos 1.
            double entropy1 = Math.Log(1 + Math.E);
            Assert.Equal(Math.Exp((entropy0 + entropy1) / 2), result.Perplexity, 5);
            Assert.Equal(0.5, result.Accuracy, Precision);
            Assert.Equal(1, result.Samples);
        }
    }

    [Fact]
    public void No_tokens_give_empty_metrics_and_bad_shapes_are_named()
    {
        using var negatives = Matrix([1, 0], [0, 1]);
        using var none = zeros(0, 2);
        using var noSequences = zeros(0, ScalarType.Int64);

        var empty = InBatchMetrics.Score(none, none, noSequences, negatives, 1);
        Assert.Equal(0, empty.Samples);
        Assert.True(double.IsNaN(empty.Accuracy));

        using var predictions = Matrix([1, 0]);
        using var wrongWidth = Matrix([1, 0, 0]);
        using var sequences = tensor(new long[] { 0 });
        var error = Assert.Throws<ArgumentException>(() => InBatchMetrics.Score(predictions, wrongWidth, sequences, negatives, 1));
        Assert.Contains("positives", error.Message);
        using var outOfRange = tensor(new long[] { 2 });
        Assert.Throws<ArgumentException>(() => InBatchMetrics.Score(predictions, predictions, outOfRange, negatives, 1));
    }

    private static Tensor Matrix(params float[][] rows) =>
        tensor(rows.SelectMany(row => row).ToArray(), new long[] { rows.Length, rows[0].Length });
}
