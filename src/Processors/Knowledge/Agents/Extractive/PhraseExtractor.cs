using System.Text.RegularExpressions;
using ReaSeq.Processors.Knowledge.Guards;

namespace ReaSeq.Processors.Knowledge.Agents.Extractive;

/// <summary>A phrase exactly as it appears in the source text, plus its normalised form for counting.</summary>
internal readonly record struct Phrase(string Verbatim, string Normalised, int Words);

/// <summary>Word n-grams taken verbatim from text, never crossing punctuation and never starting/ending on a stopword.</summary>
internal static partial class PhraseExtractor
{
    private static readonly HashSet<string> Stopwords = new(StringComparer.OrdinalIgnoreCase)
    {
        "a", "an", "the", "and", "or", "of", "for", "with", "in", "on", "to", "by", "at", "from", "as", "is", "are",
        "it", "its", "this", "that", "be", "your", "you", "our", "we", "per", "set", "pack", "x", "into", "up", "not",
        "no", "all", "any", "has", "have", "can", "will", "was", "were", "but", "so", "if", "than", "then", "very",
    };

    [GeneratedRegex(@"[\p{L}\p{N}][\p{L}\p{N}'\-]*")]
    private static partial Regex WordPattern();

    public static bool IsStopword(string word) => Stopwords.Contains(word);

    public static IEnumerable<Phrase> NGrams(string text, int minWords, int maxWords)
    {
        var words = WordPattern().Matches(text);
        for (int start = 0; start < words.Count; start++)
        {
            if (IsStopword(words[start].Value)) continue;
            for (int n = minWords; n <= maxWords && start + n <= words.Count; n++)
            {
                var last = words[start + n - 1];
                if (n > 1 && !OnlyWhitespaceBetween(text, words[start + n - 2], last)) break;
                if (IsStopword(last.Value)) continue;
                if (n == 1 && (last.Value.Length < 2 || last.Value.All(char.IsDigit))) continue;
                string verbatim = text.Substring(words[start].Index, last.Index + last.Length - words[start].Index);
                yield return new Phrase(verbatim, EvidenceGuard.Normalise(verbatim), n);
            }
        }
    }

    /// <summary>Content words of a span, lower-cased, for keywords.</summary>
    public static IEnumerable<string> ContentWords(string text) =>
        WordPattern().Matches(text).Select(m => m.Value.ToLowerInvariant())
            .Where(w => !IsStopword(w) && w.Length > 1 && !w.All(char.IsDigit));

    private static bool OnlyWhitespaceBetween(string text, Match left, Match right)
    {
        for (int i = left.Index + left.Length; i < right.Index; i++)
            if (!char.IsWhiteSpace(text[i])) return false;
        return true;
    }
}
