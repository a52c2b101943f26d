using System.ComponentModel.DataAnnotations;

namespace ReaSeq.Api;

/// <summary>Configuration section "Api:Cache": the in-process feature cache of the score path.</summary>
public sealed class ApiCacheOptions
{
    /// <summary>Users whose features are kept; the least recently used fall out beyond this.</summary>
    [Range(0, 10_000_000)] public int MaxUsers { get; set; } = 100_000;

    /// <summary>Items whose features are kept.</summary>
    [Range(0, 10_000_000)] public int MaxItems { get; set; } = 1_000_000;

    /// <summary>
    /// Users whose encoded model state (the CTR model's user step: about (MaxHistory × (knowledge width + 4 × hidden))
    /// floats, ≈ 0.4 MB at the default shape) is kept between requests; 0 encodes the user on every request.
    /// </summary>
    [Range(0, 10_000_000)] public int MaxUserStates { get; set; } = 1_000;

    /// <summary>
    /// Users whose model state is encoded on a new model version before it is swapped in (the most recently used of
    /// the cached states), so their first requests after a swap find it cached instead of paying the user step.
    /// </summary>
    [Range(0, 10_000_000)] public int PrewarmUserStates { get; set; } = 100;

    /// <summary>
    /// Longest a cached user entry is served without being re-read (the freshness bound for changes no feature topic
    /// announces, e.g. clicks the ingest role stored after the last SequenceUpdate). The topics evict sooner.
    /// </summary>
    [Range(1, 86_400_000)] public int MaxAgeMs { get; set; } = 10_000;

    internal void Validate()
    {
        if (MaxUsers < 0 || MaxItems < 0 || MaxUserStates < 0 || PrewarmUserStates < 0) throw new ArgumentException("Api:Cache sizes must not be negative.");
    }
}
