namespace ReaSeq.Processors.Knowledge;

/// <summary>A category from the primary level down, e.g. ["Home", "Lighting", "Lanterns"].</summary>
public sealed record CategoryPath
{
    private CategoryPath(IReadOnlyList<string> segments) => Segments = segments;

    public static CategoryPath Empty { get; } = new([]);

    public IReadOnlyList<string> Segments { get; }

    public static CategoryPath Of(IEnumerable<string> segments)
    {
        var cleaned = segments.Select(s => s?.Trim() ?? "").ToArray();
        if (cleaned.Any(s => s.Length == 0)) throw new ArgumentException("Category segments must not be blank.", nameof(segments));
        return cleaned.Length == 0 ? Empty : new CategoryPath(cleaned);
    }

    public static CategoryPath Of(params string[] segments) => Of((IEnumerable<string>)segments);

    public bool IsEmpty => Segments.Count == 0;
    public int Depth => Segments.Count;
    public CategoryPath Primary => IsEmpty ? this : new CategoryPath([Segments[0]]);
    public CategoryPath Parent => Depth <= 1 ? Empty : new CategoryPath(Segments.Take(Depth - 1).ToArray());
    public CategoryPath Prefix(int depth) => new(Segments.Take(depth).ToArray());
    public bool StartsWith(CategoryPath prefix) =>
        prefix.Depth <= Depth && prefix.Segments.Select((s, i) => s == Segments[i]).All(x => x);

    public bool Equals(CategoryPath? other) => other is not null && Segments.SequenceEqual(other.Segments);
    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
    public override string ToString() => string.Join(" > ", Segments);
}
