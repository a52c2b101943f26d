using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Models.Dllm;

/// <summary>
/// The in-batch evaluation of paper §4.2.1 on plain tensors, independent of any model.
/// A scored token has a prediction and a positive; its candidates are the positive plus one negative per other
/// sequence of the batch (B − 1 negatives), scored by cosine similarity / temperature as in Eq. 7.
/// IB-ACC (Eq. 9) counts a token as correct only when its positive scores strictly higher than every negative;
/// IB-PPL (Eq. 8) is exp of the sample's mean cross-entropy over those candidates.
/// A negative that is the very same vector as the token's positive (the same item drawn from another sequence)
/// is left out for that token: it is an accidental hit, not a competitor, and with a small item pool it would
/// otherwise tie with the positive and cap IB-ACC. The paper's vocabulary is large enough that it does not say.
/// </summary>
public static class InBatchMetrics
{
    /// <summary>
    /// Scores <paramref name="predictions"/> [N, D] against <paramref name="positives"/> [N, D].
    /// <paramref name="tokenSequences"/> [N] (int64) names each token's sequence in [0, B);
    /// <paramref name="sequenceNegatives"/> [B, D] holds the one item drawn from each sequence, and a token never
    /// sees its own sequence's draw as a negative.
    /// </summary>
    public static InBatchMetricResult Score(
        Tensor predictions, Tensor positives, Tensor tokenSequences, Tensor sequenceNegatives, double temperature)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(positives);
        ArgumentNullException.ThrowIfNull(tokenSequences);
        ArgumentNullException.ThrowIfNull(sequenceNegatives);
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Temperature must be > 0.");
        if (predictions.dim() != 2 || !predictions.shape.SequenceEqual(positives.shape))
        {
            throw new ArgumentException(
                $"Predictions [{Shape(predictions)}] and positives [{Shape(positives)}] must both be [tokens, dim].");
        }

        if (tokenSequences.dim() != 1 || tokenSequences.shape[0] != predictions.shape[0])
            throw new ArgumentException($"Token sequences must be [{predictions.shape[0]}], got [{Shape(tokenSequences)}].");
        if (sequenceNegatives.dim() != 2 || sequenceNegatives.shape[1] != predictions.shape[1])
        {
            throw new ArgumentException(
                $"Sequence negatives must be [sequences, {predictions.shape[1]}], got [{Shape(sequenceNegatives)}].");
        }

        if (predictions.shape[0] == 0) return InBatchMetricResult.Empty;

        long sequences = sequenceNegatives.shape[0];
        double[] crossEntropy;
        bool[] hit;
        long[] owner;
        using (no_grad())
        using (NewDisposeScope())
        {
            // Float64 so that metrics on hand-made vectors match closed-form values exactly.
            var prediction = nn.functional.normalize(predictions.detach().to(ScalarType.Float64), p: 2, dim: 1);
            var positive = nn.functional.normalize(positives.detach().to(ScalarType.Float64), p: 2, dim: 1);
            var negatives = nn.functional.normalize(sequenceNegatives.detach().to(ScalarType.Float64), p: 2, dim: 1);
            var sequence = tokenSequences.to(ScalarType.Int64);
            long lowest = sequence.min().item<long>(), highest = sequence.max().item<long>();
            if (lowest < 0 || highest >= sequences)
                throw new ArgumentException($"Token sequences must lie in [0, {sequences}), found [{lowest}, {highest}].");

            var positiveLogit = (prediction * positive).sum(1) / temperature;
            var ownSequence = nn.functional.one_hot(sequence, sequences).to(ScalarType.Bool);
            var accidentalHit = positive.matmul(negatives.t()).gt(1 - 1e-9);
            var negativeLogits = prediction.matmul(negatives.t()).div(temperature)
                .MaskedFill(ownSequence.logical_or(accidentalHit), double.NegativeInfinity);
            var candidates = cat([positiveLogit.unsqueeze(1), negativeLogits], 1);
            var entropy = candidates.logsumexp(1) - positiveLogit;
            // Without any negative left (one sequence, or only accidental hits): max is -inf and the token counts as a hit.
            var correct = positiveLogit > negativeLogits.max(1).values;
            crossEntropy = entropy.cpu().data<double>().ToArray();
            hit = correct.cpu().data<bool>().ToArray();
            owner = sequence.cpu().data<long>().ToArray();
        }
        return Aggregate(crossEntropy, hit, owner);
    }

    /// <summary>
    /// The positive of each [FILL] (§4.2.1): among the [MASK] ground truths <paramref name="maskTargets"/> [M, D]
    /// of the same sequence, the one with the highest cosine similarity to the fill's prediction.
    /// Returns those positives [F, D] and whether each fill had any [MASK] in its sequence [F] (bool); a fill
    /// without one gets a zero row and must be left out of <see cref="Score"/>.
    /// </summary>
    public static (Tensor Positives, Tensor HasPositive) ClosestTruths(
        Tensor fillPredictions, Tensor fillSequences, Tensor maskTargets, Tensor maskSequences)
    {
        ArgumentNullException.ThrowIfNull(fillPredictions);
        ArgumentNullException.ThrowIfNull(fillSequences);
        ArgumentNullException.ThrowIfNull(maskTargets);
        ArgumentNullException.ThrowIfNull(maskSequences);
        if (fillPredictions.dim() != 2 || maskTargets.dim() != 2 || fillPredictions.shape[1] != maskTargets.shape[1])
        {
            throw new ArgumentException(
                $"Fill predictions [{Shape(fillPredictions)}] and mask targets [{Shape(maskTargets)}] must be [n, dim] of one width.");
        }

        if (fillSequences.dim() != 1 || fillSequences.shape[0] != fillPredictions.shape[0] ||
            maskSequences.dim() != 1 || maskSequences.shape[0] != maskTargets.shape[0])
        {
            throw new ArgumentException("Sequence indices must hold one entry per fill and per mask.");
        }

        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long fills = fillPredictions.shape[0];
        if (maskTargets.shape[0] == 0)
        {
            return (zeros_like(fillPredictions).MoveToOuterDisposeScope(),
                zeros(fills, ScalarType.Bool, device: fillPredictions.device).MoveToOuterDisposeScope());
        }
        var similarity = nn.functional.normalize(fillPredictions.detach(), p: 2, dim: 1)
            .matmul(nn.functional.normalize(maskTargets.detach(), p: 2, dim: 1).t());
        var sameSequence = fillSequences.to(ScalarType.Int64).unsqueeze(1) == maskSequences.to(ScalarType.Int64).unsqueeze(0);
        var closest = similarity.MaskedFill(sameSequence.logical_not(), double.NegativeInfinity).argmax(1);
        var hasPositive = sameSequence.any(1);
        var positives = maskTargets.detach().index_select(0, closest) * hasPositive.unsqueeze(1).to(maskTargets.dtype);
        return (positives.MoveToOuterDisposeScope(), hasPositive.MoveToOuterDisposeScope());
    }

    private static InBatchMetricResult Aggregate(double[] crossEntropy, bool[] hit, long[] owner)
    {
        var perSample = new SortedDictionary<long, (double Entropy, int Hits, int Tokens)>();
        for (int i = 0; i < owner.Length; i++)
        {
            perSample.TryGetValue(owner[i], out var sums);
            perSample[owner[i]] = (sums.Entropy + crossEntropy[i], sums.Hits + (hit[i] ? 1 : 0), sums.Tokens + 1);
        }
        double perplexity = 0, accuracy = 0;
        foreach (var (entropy, hits, tokens) in perSample.Values)
        {
            perplexity += Math.Exp(entropy / tokens);
            accuracy += hits / (double)tokens;
        }
        return new InBatchMetricResult(perplexity / perSample.Count, accuracy / perSample.Count, perSample.Count, owner.Length);
    }

    private static string Shape(Tensor tensor) => string.Join(", ", tensor.shape);
}
