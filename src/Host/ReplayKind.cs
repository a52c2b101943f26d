namespace ReaSeq.Host;

/// <summary>Where a replay reads from.</summary>
public enum ReplayKind
{
    /// <summary>No replay (`run` only serves).</summary>
    None,
    /// <summary>Online Retail when its folder exists, else the synthetic world.</summary>
    Auto,
    OnlineRetail,
    Synthetic,
    Csv,
}
