using System.Text;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Taxonomy;

namespace ReaSeq.Processors.Knowledge.Guards;

public sealed record GuardedAnalysis(ItemAnalysis Analysis, int RejectedEvidence, int RejectedDimensions);

/// <summary>
/// Hallucination guard (§2.1.1, layer 3): evidence must be a verbatim span of the item's own metadata
/// (title, description or an attribute value), compared case- and whitespace-insensitively. Dimensions that are
/// not in the category's taxonomy, repeat, or keep no evidence are dropped — their keywords would be ungrounded.
/// </summary>
public static class EvidenceGuard
{
    public const int MaxKeywordsPerDimension = 8;

    public static GuardedAnalysis Apply(KnowledgeItem item, CategoryTaxonomies taxonomies, ItemAnalysis analysis)
    {
        var sources = item.EvidenceSources().Select(Normalise).Where(s => s.Length > 0).ToArray();
        var seen = new HashSet<(Perspective, string)>();
        var kept = new List<DimensionKnowledge>();
        int rejectedEvidence = 0, rejectedDimensions = 0;

        foreach (var dimension in analysis.Dimensions)
        {
            var known = taxonomies.For(dimension.Perspective).Find(dimension.Label);
            if (known is null || !seen.Add((dimension.Perspective, known.Label)))
            {
                rejectedDimensions++;
                rejectedEvidence += dimension.Evidence.Count;
                continue;
            }

            var grounded = new List<string>();
            foreach (var evidence in dimension.Evidence)
            {
                string needle = Normalise(evidence);
                if (needle.Length > 0 && sources.Any(s => s.Contains(needle, StringComparison.Ordinal)))
                {
                    if (!grounded.Contains(evidence, StringComparer.OrdinalIgnoreCase)) grounded.Add(evidence.Trim());
                }
                else
                {
                    rejectedEvidence++;
                }
            }

            if (grounded.Count == 0)
            {
                rejectedDimensions++;
                continue;
            }

            var keywords = dimension.Keywords.Select(k => k.Trim()).Where(k => k.Length > 0)
                .Distinct(StringComparer.OrdinalIgnoreCase).Take(MaxKeywordsPerDimension).ToArray();
            // The taxonomy's spelling of the label wins, so encodings of items of one category line up.
            kept.Add(dimension with { Label = known.Label, Evidence = grounded, Keywords = keywords });
        }
        return new GuardedAnalysis(new ItemAnalysis(kept), rejectedEvidence, rejectedDimensions);
    }

    /// <summary>Lower-case, every whitespace run collapsed to one space, trimmed.</summary>
    public static string Normalise(string text)
    {
        var builder = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }
            if (pendingSpace) builder.Append(' ');
            pendingSpace = false;
            builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }
}
