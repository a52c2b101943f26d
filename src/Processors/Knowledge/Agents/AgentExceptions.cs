namespace ReaSeq.Processors.Knowledge.Agents;

public enum AgentOutputFailure
{
    /// <summary>No JSON object could be read from the answer.</summary>
    InvalidJson,
    /// <summary>JSON was read but violates the answer schema (missing/extra fields, wrong types, limits, unknown labels).</summary>
    SchemaViolation,
    /// <summary>After the hallucination guard nothing grounded in the item's metadata was left.</summary>
    NoGroundedKnowledge,
    /// <summary>The endpoint refused this request as such (HTTP 400/413/422), so retrying it cannot help.</summary>
    RequestRejected,
}

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

/// <summary>
/// The agent could not be reached (timeouts, HTTP 429/5xx) within the retry budget. Transient: the caller should
/// back off and retry the input later, not dead-letter it.
/// </summary>
public sealed class AgentUnavailableException(string backend, AgentLayer layer, int attempts, string message, Exception? inner = null)
    : Exception($"{backend} {layer}: unavailable after {attempts} attempt(s): {message}", inner)
{
    public string Backend { get; } = backend;
    public AgentLayer Layer { get; } = layer;
    public int Attempts { get; } = attempts;
}
