namespace ReaSeq.Tools.Eval;

public sealed class EvalSplitOptions
{
    /// <summary>Explicit split instant; when null the split falls at (1 - TestFraction) of the data's time span.</summary>
    public DateTimeOffset? SplitAt { get; set; }

    public double TestFraction { get; set; } = 0.2;

    /// <summary>When set, interactions at or after it are dropped before the split (a validation run for tuning).</summary>
    public DateTimeOffset? Until { get; set; }

    /// <summary>Most recent clicks before the split kept as the user's sequence.</summary>
    public int HistoryLength { get; set; } = 50;

    /// <summary>At most this many targets per user: the first distinct new items bought after the split.</summary>
    public int MaxTargets { get; set; } = 10;

    /// <summary>Evaluate at most this many users (the first by user id order of the eligible ones); 0 = all.</summary>
    public int LimitUsers { get; set; }

    public void Validate()
    {
        if (TestFraction is <= 0 or >= 1) throw new ArgumentException($"--test-fraction must be in (0, 1), got {TestFraction}");
        if (HistoryLength < 1) throw new ArgumentException($"--history must be positive, got {HistoryLength}");
        if (MaxTargets < 1) throw new ArgumentException($"--targets must be positive, got {MaxTargets}");
        if (LimitUsers < 0) throw new ArgumentException($"--limit-users must not be negative, got {LimitUsers}");
    }
}
