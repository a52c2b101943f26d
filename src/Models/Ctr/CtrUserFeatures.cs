namespace ReaSeq.Models.Ctr;

/// <summary>
/// The user side of a CTR example, as of one moment (the impression's time when training, the request's time when
/// ranking). Everything in it must be known strictly before that moment.
/// </summary>
/// <param name="UserId">The user.</param>
/// <param name="History">Knowledge vectors of the user's observed clicks, oldest → newest; empty for a cold user.
/// Items without a vector are left out by the caller.</param>
/// <param name="HistorySemanticIds">Semantic-id codes of each history item (same order and length as
/// <paramref name="History"/>, an entry null when unknown), or null when none are known.</param>
/// <param name="Fills">GBR fills of the augmented sequence (§4.2.4), or null for the observed sequence alone.</param>
/// <param name="ClickCount">Clicks the user had before this moment, including those older than the truncated
/// <paramref name="History"/>: the user-activity feature of the head (§2.2.2's user profile features).</param>
public sealed record CtrUserFeatures(
    string UserId,
    IReadOnlyList<float[]> History,
    IReadOnlyList<int[]?>? HistorySemanticIds = null,
    IReadOnlyList<CtrFill>? Fills = null,
    long ClickCount = 0);
