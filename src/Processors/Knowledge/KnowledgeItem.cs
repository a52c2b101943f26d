using System.Security.Cryptography;
using System.Text;

namespace ReaSeq.Processors.Knowledge;

/// <summary>Item metadata as the merchant supplied it: the only source evidence may be quoted from.</summary>
public sealed record KnowledgeItem
{
    public KnowledgeItem(string itemId, string title, string? description = null,
                         IReadOnlyList<string>? categoryPath = null, IReadOnlyDictionary<string, string>? attributes = null)
    {
        ItemId = string.IsNullOrWhiteSpace(itemId) ? throw new ArgumentException("Item id is required.", nameof(itemId)) : itemId;
        Title = title ?? throw new ArgumentNullException(nameof(title));
        Description = description ?? "";
        CategoryPath = CategoryPath.Of(categoryPath ?? []);
        Attributes = attributes ?? new Dictionary<string, string>();
    }

    public string ItemId { get; }
    public string Title { get; }
    public string Description { get; }
    public CategoryPath CategoryPath { get; }
    public IReadOnlyDictionary<string, string> Attributes { get; }

    /// <summary>The metadata fields evidence must come from: title, description, attribute values.</summary>
    public IEnumerable<string> EvidenceSources()
    {
        yield return Title;
        yield return Description;
        foreach (var value in Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => a.Value)) yield return value;
    }

    /// <summary>Stable hash of all metadata, so an unchanged item can skip layer 3.</summary>
    public string ContentHash()
    {
        var text = new StringBuilder();
        void Field(string value) => text.Append(value.Length).Append(':').Append(value).Append('|');
        Field(ItemId);
        Field(Title);
        Field(Description);
        Field(CategoryPath.ToString());
        foreach (var (key, value) in Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            Field(key);
            Field(value);
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public KnowledgeItem WithCategory(CategoryPath path) =>
        new(ItemId, Title, Description, path.Segments, Attributes);
}
