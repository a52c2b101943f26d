namespace ReaSeq.Ingestors.Streaming.Operations;

/// <summary>The outcome of one <see cref="IReadinessContributor"/>: ready or not, and why (shown in /readyz).</summary>
public sealed record ReadinessCheck(bool Ready, string Detail)
{
    public static ReadinessCheck Ok(string detail = "ok") => new(true, detail);

    public static ReadinessCheck NotReady(string detail) => new(false, detail);
}
