using System.Text.Json;
using System.Text.Json.Serialization;
using ReaSeq.Contracts;

namespace ReaSeq.Ingestors.Replay.Synthetic;

/// <summary>
/// One withheld off-platform interaction. <see cref="AfterEventId"/> is the user's last published click before it
/// (null when the user had none yet): the gap in the observed sequence this event would fill.
/// </summary>
public sealed record OffPlatformEvent(
    [property: JsonPropertyName("user_id")] string UserId,
    [property: JsonPropertyName("item_id")] string ItemId,
    [property: JsonPropertyName("ts_ms")] long TsMs,
    [property: JsonPropertyName("after_event_id")] string? AfterEventId,
    [property: JsonPropertyName("category")] string Category,
    [property: JsonPropertyName("action")] ClickAction Action,
    [property: JsonPropertyName("session")] int Session);

/// <summary>Ground-truth file of off-platform events: JSON lines, in event-time order.</summary>
public static class SyntheticGroundTruth
{
    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = false,
    };

    public static string ToJsonLine(OffPlatformEvent e) => JsonSerializer.Serialize(e, Json);

    /// <summary>Parses one line written by <see cref="ToJsonLine"/> (e.g. from an in-memory ground-truth writer).</summary>
    public static OffPlatformEvent FromJsonLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        try
        {
            return JsonSerializer.Deserialize<OffPlatformEvent>(line, Json) ?? throw new FormatException("empty off-platform event record");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"not an off-platform event ({ex.Message})", ex);
        }
    }

    public static IEnumerable<OffPlatformEvent> Read(string path)
    {
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            OffPlatformEvent? e;
            try
            {
                e = JsonSerializer.Deserialize<OffPlatformEvent>(line, Json);
            }
            catch (JsonException ex)
            {
                throw new FormatException($"{path}, line {lineNumber}: not an off-platform event ({ex.Message})", ex);
            }
            yield return e ?? throw new FormatException($"{path}, line {lineNumber}: empty record");
        }
    }
}
