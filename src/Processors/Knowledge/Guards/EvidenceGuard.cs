using System.Text;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Taxonomy;

namespace ReaSeq.Processors.Knowledge.Guards;

/// <summary>
/// Hallucination guard (§2.1.1, layer 3). Evidence must be a verbatim span of the item's own metadata (title,
/// description or one attribute value), compared case- and whitespace-insensitively, of at least
/// <see cref="MinEvidenceChars"/> characters, starting and ending on word boundaries — so "a" or "otto" (inside
/// "cotton") ground nothing. Keywords are what §2.1.2 encodes, so each one must share a word with the dimension's
/// accepted evidence; the others are dropped, and a dimension left without keywords encodes its evidence instead.
/// Dimensions that are not in the category's taxonomy, repeat, or keep no evidence are dropped. Every rejection is
/// counted.
/// </summary>
public static class EvidenceGuard
{
    public const int MaxKeywordsPerDimension = 8;

    /// <summary>Shortest accepted evidence span, normalised ("28 cm", "red" pass; "xl" does not).</summary>
    public const int MinEvidenceChars = 3;

    public static GuardedAnalysis Apply(KnowledgeItem item, CategoryTaxonomies taxonomies, ItemAnalysis analysis)
    {
        var sources = item.EvidenceSources().Select(Normalise).Where(s => s.Length > 0).ToArray();
        var seen = new HashSet<(Perspective, string)>();
        var kept = new List<DimensionKnowledge>();
        int rejectedEvidence = 0, rejectedDimensions = 0, rejectedKeywords = 0;

        foreach (var dimension in analysis.Dimensions)
        {
            var known = taxonomies.For(dimension.Perspective).Find(dimension.Label);
            if (known is null || !seen.Add((dimension.Perspective, known.Label)))
            {
                rejectedDimensions++;
                rejectedEvidence += dimension.Evidence.Count;
                rejectedKeywords += dimension.Keywords.Count;
                continue;
            }

            var grounded = new List<string>();
            foreach (var evidence in dimension.Evidence)
            {
                string needle = Normalise(evidence);
                if (needle.Length >= MinEvidenceChars && sources.Any(s => ContainsOnWordBoundaries(s, needle)))
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
                rejectedKeywords += dimension.Keywords.Count;
                continue;
            }

            var evidenceStems = grounded.SelectMany(Words).Select(Stem).ToHashSet(StringComparer.Ordinal);
            var keywords = new List<string>();
            foreach (var keyword in dimension.Keywords.Select(k => k.Trim()).Where(k => k.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (Words(keyword).Any(w => evidenceStems.Contains(Stem(w)))) keywords.Add(keyword);
                else rejectedKeywords++;
            }
            // Nothing the agent summarised survived: encode the accepted evidence itself, which is grounded by construction.
            if (keywords.Count == 0) keywords.AddRange(grounded.Select(Normalise).Distinct(StringComparer.Ordinal));
            // The taxonomy's spelling of the label wins, so encodings of items of one category line up.
            kept.Add(dimension with { Label = known.Label, Evidence = grounded, Keywords = [.. keywords.Take(MaxKeywordsPerDimension)] });
        }
        return new GuardedAnalysis(new ItemAnalysis(kept), rejectedEvidence, rejectedDimensions, rejectedKeywords);
    }

    /// <summary>True when <paramref name="needle"/> occurs in <paramref name="source"/> with no letter or digit just before or after it.</summary>
    public static bool ContainsOnWordBoundaries(string source, string needle)
    {
        for (int at = source.IndexOf(needle, StringComparison.Ordinal); at >= 0; at = source.IndexOf(needle, at + 1, StringComparison.Ordinal))
        {
            int end = at + needle.Length;
            bool startsOnBoundary = at == 0 || !char.IsLetterOrDigit(source[at - 1]) || !char.IsLetterOrDigit(needle[0]);
            bool endsOnBoundary = end == source.Length || !char.IsLetterOrDigit(source[end]) || !char.IsLetterOrDigit(needle[^1]);
            if (startsOnBoundary && endsOnBoundary) return true;
        }
        return false;
    }

    /// <summary>Lower-cased runs of letters and digits, two characters or longer.</summary>
    private static IEnumerable<string> Words(string text)
    {
        int start = -1;
        for (int i = 0; i <= text.Length; i++)
        {
            bool inWord = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                if (i - start >= 2) yield return text[start..i].ToLowerInvariant();
                start = -1;
            }
        }
    }

    /// <summary>A crude English stem (plural and -ed/-ing endings cut), so the keyword "candle" is grounded by "candles".</summary>
    private static string Stem(string word)
    {
        if (word.Length > 3 && word.EndsWith('s') && !word.EndsWith("ss", StringComparison.Ordinal)) word = word[..^1];
        foreach (var suffix in (ReadOnlySpan<string>)["ing", "ed"])
            if (word.Length - suffix.Length >= 3 && word.EndsWith(suffix, StringComparison.Ordinal)) return word[..^suffix.Length];
        return word;
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
