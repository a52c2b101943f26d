namespace ReaSeq.Ingestors.Replay.Csv;

/// <summary>Raised when a column mapping is malformed or does not fit the file's header.</summary>
public sealed class ColumnMappingException(string message) : ArgumentException(message);
