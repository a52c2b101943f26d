namespace ReaSeq.Ingestors.Replay.Csv;

/// <summary>Raised for input that is not valid CSV; names the file and line.</summary>
public sealed class CsvFormatException(string message) : FormatException(message);
