namespace ReaSeq.Processors.Knowledge.Agents;

/// <summary>
/// The agent answered, but not usably, even after the retry budget: the input should be dead-lettered with
/// <see cref="Reason"/> rather than retried forever.
/// </summary>
public sealed class AgentOutputException(string backend, AgentLayer layer, AgentOutputFailure reason, string message,
                                         string? lastOutput = null, Exception? inner = null)
    : Exception($"{backend} {layer}: {reason}: {message}", inner)
{
    public string Backend { get; } = backend;
    public AgentLayer Layer { get; } = layer;
    public AgentOutputFailure Reason { get; } = reason;

    /// <summary>The last raw answer (truncated), for the dead letter.</summary>
    public string? LastOutput { get; } = lastOutput is { Length: > 4000 } ? lastOutput[..4000] : lastOutput;
}
