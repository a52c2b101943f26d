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
