namespace ReaSeq.Host;

/// <summary>Minimal `--name value` / `--flag` parsing; everything else is configuration (appsettings, REASEQ__ env vars).</summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);

    public CliArgs(IEnumerable<string> args)
    {
        string? pending = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (pending is not null) _options[pending] = null;
                var eq = arg.IndexOf('=');
                if (eq > 0) { _options[arg[2..eq]] = arg[(eq + 1)..]; pending = null; }
                else pending = arg[2..];
            }
            else if (pending is not null) { _options[pending] = arg; pending = null; }
            else Positional.Add(arg);
        }
        if (pending is not null) _options[pending] = null;
    }

    public List<string> Positional { get; } = [];

    public string? Get(string name) => _options.TryGetValue(name, out var v) ? v : null;

    public bool Has(string name) => _options.ContainsKey(name);

    public int GetInt(string name, int fallback) =>
        Get(name) is { } v ? (int.TryParse(v, out var i) ? i : throw new ArgumentException($"--{name} must be an integer, got '{v}'")) : fallback;
}
