using ReaSeq.Processors.Knowledge.Agents;

namespace ReaSeq.Processors.Knowledge.Prompts;

/// <summary>An answer that does not meet the schema; generative backends retry on it.</summary>
public sealed class AgentAnswerFormatException(AgentOutputFailure reason, string message) : Exception(message)
{
    public AgentOutputFailure Reason { get; } = reason;
}
