using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ReaSeq.Processors.Knowledge.Prompts;

/// <summary>A prompt ready to send: instructions (system) and the task with its delimited data (user).</summary>
public sealed record RenderedPrompt(string TemplateName, string System, string User);

/// <summary>
/// Versioned prompt templates shipped inside this assembly (prompts/{version}/{name}.md). A template holds a
/// system part and a user part separated by HTML comments; {{placeholders}} are filled in one pass, so text
/// inside a value is never re-interpreted as a placeholder.
/// </summary>
public sealed partial class PromptLibrary
{
    public const string DefaultVersion = "v1";
    public const string Layer1Demand = "layer1-demand";
    public const string Layer1Attribute = "layer1-attribute";
    public const string Layer2Refine = "layer2-refine";
    public const string Layer3Item = "layer3-item";

    private const string SystemMarker = "<!-- system -->";
    private const string UserMarker = "<!-- user -->";

    private readonly ConcurrentDictionary<string, (string System, string User)> _templates = new(StringComparer.Ordinal);

    /// <summary>JSON for data blocks: the default encoder escapes &lt; &gt; &amp; and quotes, so data cannot close its delimiter.</summary>
    public static JsonSerializerOptions DataJson { get; } = new()
    {
        Encoder = JavaScriptEncoder.Default,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = false,
    };

    public PromptLibrary(string version = DefaultVersion)
    {
        if (string.IsNullOrWhiteSpace(version) || !VersionPattern().IsMatch(version))
            throw new ArgumentException($"Prompt version '{version}' must look like v1, v2, ...", nameof(version));
        Version = version;
        foreach (var name in new[] { Layer1Demand, Layer1Attribute, Layer2Refine, Layer3Item }) Load(name);
    }

    public string Version { get; }

    public static IReadOnlyList<string> AvailableVersions() =>
        typeof(PromptLibrary).Assembly.GetManifestResourceNames()
            .Select(n => ResourcePattern().Match(n)).Where(m => m.Success).Select(m => m.Groups[1].Value)
            .Distinct().Order(StringComparer.Ordinal).ToArray();

    public RenderedPrompt Render(string name, IReadOnlyDictionary<string, string> values)
    {
        var (system, user) = Load(name);
        return new RenderedPrompt(name, Fill(name, system, values), Fill(name, user, values));
    }

    /// <summary>Serialises catalog data for a data block.</summary>
    public static string Data<T>(T value) => JsonSerializer.Serialize(value, DataJson);

    private (string System, string User) Load(string name) => _templates.GetOrAdd(name, n =>
    {
        string resource = $"prompts/{Version}/{n}.md";
        using var stream = typeof(PromptLibrary).Assembly.GetManifestResourceStream(resource)
                           ?? throw new InvalidOperationException($"Prompt template '{resource}' is not embedded; available versions: {string.Join(", ", AvailableVersions())}.");
        string text = new StreamReader(stream).ReadToEnd().Replace("\r\n", "\n");
        int system = text.IndexOf(SystemMarker, StringComparison.Ordinal);
        int user = text.IndexOf(UserMarker, StringComparison.Ordinal);
        if (system < 0 || user < system)
            throw new InvalidOperationException($"Prompt template '{resource}' needs '{SystemMarker}' followed by '{UserMarker}'.");
        return (text[(system + SystemMarker.Length)..user].Trim(), text[(user + UserMarker.Length)..].Trim());
    });

    private static string Fill(string name, string template, IReadOnlyDictionary<string, string> values) =>
        PlaceholderPattern().Replace(template, match => values.TryGetValue(match.Groups[1].Value, out var value)
            ? value
            : throw new ArgumentException($"Prompt '{name}' needs a value for '{{{{{match.Groups[1].Value}}}}}'."));

    [GeneratedRegex(@"\{\{([a-z_]+)\}\}")]
    private static partial Regex PlaceholderPattern();

    [GeneratedRegex(@"^v[0-9]+$")]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"^prompts/(v[0-9]+)/")]
    private static partial Regex ResourcePattern();
}
