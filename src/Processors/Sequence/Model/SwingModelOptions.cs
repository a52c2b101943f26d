using System.ComponentModel.DataAnnotations;
using ReaSeq.Contracts.Validation;
namespace ReaSeq.Processors.Sequence.Model;

/// <summary>Options of <see cref="SwingCooccurrenceModel"/>.</summary>
public sealed class SwingModelOptions : IValidatableObject
{
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);

    public const string Section = "Sequence:Model";

    /// <summary>Swing's smoothing α in 1/(α + overlap).</summary>
    public double Alpha { get; set; } = 1.0;

    /// <summary>How many preceding items of the user a click co-occurs with.</summary>
    public int CoOccurrenceWindow { get; set; } = 3;

    /// <summary>
    /// False (default): pairs are learned in click order only (predecessor → successor), which is what
    /// next-item queries read and halves the update work. True: Swing's undirected co-occurrence.
    /// </summary>
    public bool Symmetric { get; set; }

    /// <summary>M: neighbour weights kept per item; the smallest are evicted beyond that.</summary>
    public int MaxNeighbours { get; set; } = 64;

    /// <summary>N: the top neighbours per item served to rank and probability queries.</summary>
    public int TopNeighbours { get; set; } = 32;

    /// <summary>Rebuild an item's top-N cache after at most this many weight updates to it.</summary>
    public int CacheRefreshEvery { get; set; } = 16;

    /// <summary>Half-life of co-occurrence weights in event time; null disables decay.</summary>
    public long? HalfLifeMs { get; set; } = 7L * 24 * 3600 * 1000;

    /// <summary>Weight of the k-th most recent context item is RecencyDecay^k (k = 0 for the newest).</summary>
    public double RecencyDecay { get; set; } = 0.5;

    /// <summary>ε: share of probability mass spread uniformly over the vocabulary plus one unseen item.</summary>
    public double Smoothing { get; set; } = 0.05;

    public void Validate()
    {
        if (!(Alpha > 0) || double.IsInfinity(Alpha)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "Alpha must be a positive finite number.");
        if (CoOccurrenceWindow < 1) throw new ArgumentOutOfRangeException(nameof(CoOccurrenceWindow), CoOccurrenceWindow, "CoOccurrenceWindow must be at least 1.");
        if (TopNeighbours < 1) throw new ArgumentOutOfRangeException(nameof(TopNeighbours), TopNeighbours, "TopNeighbours must be at least 1.");
        if (MaxNeighbours < TopNeighbours) throw new ArgumentOutOfRangeException(nameof(MaxNeighbours), MaxNeighbours, $"MaxNeighbours must be at least TopNeighbours ({TopNeighbours}).");
        if (CacheRefreshEvery < 1) throw new ArgumentOutOfRangeException(nameof(CacheRefreshEvery), CacheRefreshEvery, "CacheRefreshEvery must be at least 1.");
        if (HalfLifeMs is <= 0) throw new ArgumentOutOfRangeException(nameof(HalfLifeMs), HalfLifeMs, "HalfLifeMs must be positive (or null for no decay).");
        if (!(RecencyDecay > 0 && RecencyDecay <= 1)) throw new ArgumentOutOfRangeException(nameof(RecencyDecay), RecencyDecay, "RecencyDecay must be in (0, 1].");
        if (!(Smoothing > 0 && Smoothing < 1)) throw new ArgumentOutOfRangeException(nameof(Smoothing), Smoothing, "Smoothing must be in (0, 1) so that log p stays finite.");
    }
}
