namespace ReaSeq.Models.Dllm;

/// <summary>
/// The log q of Eq. 7's sampling-bias correction (<see cref="LladaTiny.TargetLogPriorField"/>): how likely an item is to turn
/// up among a batch's in-batch candidates, estimated from counts of how often it is a target.
/// </summary>
public static class SamplingBias
{
    /// <summary>
    /// log of each item's add-one smoothed share of <paramref name="counts"/>, and the same for an item never counted, so
    /// every item has a finite prior.
    /// </summary>
    public static (float[] LogShares, float Unseen) SmoothedLogShares(IReadOnlyList<int> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        double total = counts.Sum() + (double)counts.Count;
        return ([.. counts.Select(c => (float)Math.Log((c + 1) / total))], (float)Math.Log(1 / total));
    }
}
