namespace ReaSeq.Host;

/// <summary>How logs are written to stderr.</summary>
public enum LogFormat
{
    /// <summary>Readable text on a terminal, JSON lines when stderr is redirected.</summary>
    Auto,
    Text,
    Json,
}
