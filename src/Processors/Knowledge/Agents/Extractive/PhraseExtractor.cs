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

/// <summary>Average-linkage agglomerative clustering of unit vectors by cosine similarity. Deterministic.</summary>
internal static class AgglomerativeClustering
{
    /// <summary>Merges the most similar pair of clusters while their average similarity is at least <paramref name="threshold"/>.</summary>
    public static List<List<int>> Cluster(IReadOnlyList<float[]> vectors, double threshold)
    {
        int n = vectors.Count;
        var similarity = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                similarity[i, j] = similarity[j, i] = Dot(vectors[i], vectors[j]);

        var clusters = Enumerable.Range(0, n).Select(i => new List<int> { i }).ToList();
        var alive = Enumerable.Range(0, n).ToList(); // cluster slot ids still active
        while (alive.Count > 1)
        {
            double best = double.NegativeInfinity;
            int bestA = -1, bestB = -1;
            for (int x = 0; x < alive.Count; x++)
                for (int y = x + 1; y < alive.Count; y++)
                    if (similarity[alive[x], alive[y]] > best)
                    {
                        best = similarity[alive[x], alive[y]];
                        bestA = alive[x];
                        bestB = alive[y];
                    }
            if (best < threshold) break;

            int sizeA = clusters[bestA].Count, sizeB = clusters[bestB].Count;
            foreach (int other in alive)
            {
                if (other == bestA || other == bestB) continue;
                double merged = (sizeA * similarity[bestA, other] + sizeB * similarity[bestB, other]) / (sizeA + sizeB);
                similarity[bestA, other] = similarity[other, bestA] = merged;
            }
            clusters[bestA].AddRange(clusters[bestB]);
            clusters[bestA].Sort();
            alive.Remove(bestB);
        }
        return alive.Select(slot => clusters[slot]).ToList();
    }

    /// <summary>Index (into <paramref name="members"/>) of the member with the highest mean similarity to the others.</summary>
    public static int MostCentral(IReadOnlyList<int> members, IReadOnlyList<float[]> vectors, IReadOnlyList<double> tieBreak)
    {
        int best = 0;
        double bestScore = double.NegativeInfinity;
        for (int i = 0; i < members.Count; i++)
        {
            double score = 0;
            for (int j = 0; j < members.Count; j++)
                if (i != j) score += Dot(vectors[members[i]], vectors[members[j]]);
            score += 1e-6 * tieBreak[members[i]];
            if (score > bestScore + 1e-12)
            {
                bestScore = score;
                best = i;
            }
        }
        return best;
    }

    public static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * (double)b[i];
        return sum;
    }
}
