namespace ReaSeq.Ingestors.Replay.Csv;

/// <summary>A CSV header row: column names and their positions.</summary>
public sealed class CsvHeader
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    public CsvHeader(IReadOnlyList<string> columns, string sourceName)
    {
        Columns = [.. columns.Select(c => c.Trim())];
        SourceName = sourceName;
        for (var i = 0; i < Columns.Count; i++) _index.TryAdd(Columns[i], i);
    }

    public IReadOnlyList<string> Columns { get; }
    public string SourceName { get; }

    public int IndexOf(string column, string purpose)
    {
        if (_index.TryGetValue(column, out var index)) return index;
        throw new ColumnMappingException(
            $"Column '{column}' ({purpose}) is not in the header of {SourceName}. Header columns: {string.Join(", ", Columns)}");
    }
}
