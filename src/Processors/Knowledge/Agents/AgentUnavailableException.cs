namespace ReaSeq.Processors.Knowledge.Agents;

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
