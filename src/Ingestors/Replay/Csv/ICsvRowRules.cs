using ReaSeq.Contracts;

namespace ReaSeq.Ingestors.Replay.Csv;

/// <summary>
/// Data-set specific handling plugged into <see cref="CsvInteractionSource"/> (e.g. the Online Retail quirks).
/// </summary>
public interface ICsvRowRules
{
    /// <summary>Resolves the columns the rules read; throws <see cref="ColumnMappingException"/> when one is missing.</summary>
    void Bind(CsvHeader header);

    /// <summary>Why this row is not an interaction (a stats reason such as "cancellation"), or null to keep it.</summary>
    string? SkipReason(string[] fields);

    /// <summary>
    /// The fields that identify one event. Two rows of one basket with the same identity are one event (the later
    /// copies are counted as "duplicate_row"); the event id is derived from the identity.
    /// </summary>
    string[] EventIdentity(string[] fields);

    /// <summary>Adds derived facts (category, attributes) to an item update built from the row.</summary>
    void DescribeItem(ItemUpdate item, string[] fields);
}
