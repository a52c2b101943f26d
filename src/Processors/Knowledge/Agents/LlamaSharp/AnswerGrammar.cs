using System.Text;
using System.Text.Json;

namespace ReaSeq.Processors.Knowledge.Agents.LlamaSharp;

/// <summary>
/// GBNF grammars that make a local model's output match the answer schema token by token. Labels are drawn as an
/// ordered subset of the allowed (or candidate) labels, so they are distinct by construction; layer-3 evidence is
/// drawn from the item's own spans, so a constrained model cannot quote what the item does not say.
/// </summary>
public static class AnswerGrammar
{
    private const int MaxLayer1Labels = 12;
    private const int MaxMembersPerDimension = 6;
    private const string Keyword = "[a-z0-9] [a-z0-9 -]{0,29}";

    /// <param name="shape"></param>
    /// <param name="maxTextChars">Longest free text (analysis, description, justification) admitted.</param>
    public static string For(AnswerShape shape, int maxTextChars = 240)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTextChars, 1);
        string grammar = shape.Layer switch
        {
            AgentLayer.DemandTaxonomy or AgentLayer.AttributeTaxonomy => Layer1(shape),
            AgentLayer.Refinement => Layer2(shape),
            AgentLayer.ItemKnowledge => Layer3(shape),
            _ => throw new ArgumentOutOfRangeException(nameof(shape)),
        };
        return grammar + $"text ::= [a-zA-Z0-9] [a-zA-Z0-9 ,.()-]{{0,{maxTextChars - 1}}}\n";
    }

    private static string Layer1(AnswerShape shape)
    {
        var labels = shape.Candidates.Distinct(StringComparer.OrdinalIgnoreCase).Take(MaxLayer1Labels).ToArray();
        if (labels.Length == 0) throw new ArgumentException("Layer 1 needs at least one candidate expression or attribute key.", nameof(shape));
        var g = new StringBuilder();
        g.AppendLine("root ::= \"{\\\"dimensions\\\":[\" h0 \"]}\"");
        var items = labels.Select((label, i) => $"\"{{\\\"label\\\":\" {Literal(label)} \",\\\"description\\\":\\\"\" text \"\\\",\\\"members\\\":[\" members \"]}}\"").ToArray();
        OrderedSubset(g, items);
        AppendMembers(g, shape.Candidates);
        return g.ToString();
    }

    private static string Layer2(AnswerShape shape)
    {
        var labels = shape.DemandLabels.Concat(shape.AttributeLabels).ToArray();
        if (labels.Length == 0) throw new ArgumentException("Layer 2 needs the parent's labels.", nameof(shape));
        var g = new StringBuilder();
        g.AppendLine("root ::= \"{\\\"reasoning\\\":\\\"\" text \"\\\",\\\"dimensions\\\":[\" h0 \"]}\"");
        var items = labels.Select(label =>
            $"\"{{\\\"label\\\":\" {Literal(label)} \",\\\"description\\\":\\\"\" text \"\\\",\\\"origin\\\":\\\"\" origin \"\\\",\\\"justification\\\":\\\"\" text \"\\\",\\\"members\\\":[\" members \"]}}\"").ToArray();
        OrderedSubset(g, items);
        AppendMembers(g, shape.Candidates);
        g.AppendLine("origin ::= \"inherited\" | \"adapted\"");
        return g.ToString();
    }

    private static string Layer3(AnswerShape shape)
    {
        if (shape.Candidates.Count == 0) throw new ArgumentException("Layer 3 needs the item's spans.", nameof(shape));
        var dimensions = shape.DemandLabels.Select(l => ("demand", l)).Concat(shape.AttributeLabels.Select(l => ("attribute", l))).ToArray();
        var g = new StringBuilder();
        g.AppendLine("root ::= \"{\\\"dimensions\\\":[\" h0 \"]}\"");
        var items = dimensions.Select(d =>
            $"\"{{\\\"perspective\\\":\\\"{d.Item1}\\\",\\\"label\\\":\" {Literal(d.Item2)} \",\\\"evidence\\\":[\" span (\",\" span)? \"],\\\"analysis\\\":\\\"\" text \"\\\",\\\"keywords\\\":[\" keyword (\",\" keyword){{0,3}} \"]}}\"").ToArray();
        OrderedSubset(g, items);
        g.AppendLine("span ::= " + string.Join(" | ", shape.Candidates.Select(Literal)));
        // Keywords are what §2.1.2 encodes, and the guard keeps only those grounded in the evidence: draw them from the
        // words of the item's own spans (the free pattern remains for items whose spans have no word to offer).
        var words = shape.Candidates.SelectMany(c => c.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(w => new string(w.Where(ch => char.IsAsciiLetterOrDigit(ch) || ch == '-').ToArray()).ToLowerInvariant())
            .Where(w => w.Length >= 2 && char.IsAsciiLetterOrDigit(w[0])).Distinct(StringComparer.Ordinal).ToArray();
        g.AppendLine(words.Length > 0
            ? "keyword ::= " + string.Join(" | ", words.Select(Literal))
            : $"keyword ::= \"\\\"\" {Keyword} \"\\\"\"");
        return g.ToString();
    }

    /// <summary>h0 produces a non-empty, order-preserving subset of items, comma separated.</summary>
    private static void OrderedSubset(StringBuilder g, IReadOnlyList<string> items)
    {
        for (int i = 0; i < items.Count; i++)
        {
            g.AppendLine($"d{i} ::= {items[i]}");
            g.AppendLine(i == items.Count - 1 ? $"h{i} ::= d{i}" : $"h{i} ::= d{i} t{i + 1} | h{i + 1}");
            g.AppendLine(i == items.Count - 1 ? $"t{i} ::= (\",\" d{i})?" : $"t{i} ::= (\",\" d{i})? t{i + 1}");
        }
    }

    private static void AppendMembers(StringBuilder g, IReadOnlyList<string> candidates)
    {
        if (candidates.Count == 0)
        {
            g.AppendLine("members ::= \"\"");
            return;
        }
        g.AppendLine($"members ::= (member (\",\" member){{0,{MaxMembersPerDimension - 1}}})?");
        g.AppendLine("member ::= " + string.Join(" | ", candidates.Take(160).Select(Literal)));
    }

    /// <summary>A JSON string literal of <paramref name="value"/> as a GBNF terminal (JSON-escaped, then GBNF-escaped).</summary>
    public static string Literal(string value)
    {
        string json = JsonSerializer.Serialize(value); // ASCII only: the default encoder escapes everything else
        var gbnf = new StringBuilder("\"");
        foreach (char c in json)
        {
            gbnf.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                < ' ' or > '~' => $"\\x{(int)c:X2}",
                _ => c.ToString(),
            });
        }

        return gbnf.Append('"').ToString();
    }
}
