using Avro;

// C# shapes of the Avro contracts in schemas/*.avsc. The Avro namespace is ReaSeq.Contracts so that Avro's
// specific reader finds these classes (and enums) by full name. Field order in Get/Put follows the .avsc files.
namespace ReaSeq.Contracts;

internal static class Put
{
    public static List<T> List<T>(object? value) => value switch
    {
        null => [],
        List<T> list => list,
        IEnumerable<T> items => [.. items],
        System.Collections.IEnumerable items => [.. items.Cast<T>()],
        _ => throw new AvroException($"Expected an array of {typeof(T).Name}, got {value.GetType().Name}"),
    };

    public static Dictionary<string, T> Map<T>(object? value) => value switch
    {
        null => new(StringComparer.Ordinal),
        Dictionary<string, T> map => map,
        IDictionary<string, T> map => new(map, StringComparer.Ordinal),
        System.Collections.IDictionary map => map.Keys.Cast<string>().ToDictionary(k => k, k => (T)map[k]!, StringComparer.Ordinal),
        _ => throw new AvroException($"Expected a map of {typeof(T).Name}, got {value.GetType().Name}"),
    };

    /// <summary>Avro's reader hands over any index it finds; a symbol outside the enum is a malformed record.</summary>
    public static T Enum<T>(object value) where T : struct, System.Enum
    {
        var symbol = (T)value;
        return System.Enum.IsDefined(symbol) ? symbol : throw new AvroException($"Unknown {typeof(T).Name} symbol index {Convert.ToInt32(value)}");
    }

    public static Exception BadField(int position) => new AvroRuntimeException($"Bad field index {position}");
}
