using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Taxonomy;

namespace ReaSeq.Processors.Knowledge.Prompts;

/// <summary>
/// Reads the fenced JSON block of an agent answer and validates it strictly: required fields, no unknown fields,
/// exact types, size limits, distinct labels, and (layer 3) only labels of the given taxonomy.
/// </summary>
public static partial class AgentAnswerParser
{
    public const int MaxLabelLength = 80;
    public const int MaxDescriptionLength = 600;
    public const int MaxMembers = 40;
    public const int MaxMemberLength = 160;
    public const int MaxLayer1Dimensions = 12;
    public const int MaxLayer2Dimensions = 16;
    public const int MaxEvidence = 5;
    public const int MaxEvidenceLength = 300;
    public const int MaxAnalysisLength = 1000;
    public const int MaxKeywords = 8;
    public const int MaxKeywordLength = 60;
    public const int MaxReasoningLength = 8000;

    private static readonly JsonSerializerOptions Strict = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    public sealed record DimensionAnswer(string Label, string Description, List<string> Members);
    public sealed record TaxonomyAnswer(List<DimensionAnswer> Dimensions);
    public sealed record RefinedDimensionAnswer(string Label, string Description, string Origin, string Justification, List<string> Members);
    public sealed record RefinementAnswer(string Reasoning, List<RefinedDimensionAnswer> Dimensions);
    public sealed record ItemDimensionAnswer(string Perspective, string Label, List<string> Evidence, string Analysis, List<string> Keywords);
    public sealed record ItemAnswer(List<ItemDimensionAnswer> Dimensions);

    [GeneratedRegex(@"```(?:json|JSON)?[ \t]*\r?\n(.*?)\r?\n[ \t]*```", RegexOptions.Singleline)]
    private static partial Regex FencePattern();

    /// <summary>The JSON of the last fenced block, or the whole answer when it is a bare JSON object; plus the text before it.</summary>
    public static (string Json, string Reasoning) SplitAnswer(string answer)
    {
        var fences = FencePattern().Matches(answer);
        if (fences.Count > 0)
        {
            var last = fences[^1];
            return (last.Groups[1].Value.Trim(), answer[..last.Index].Trim());
        }
        string trimmed = answer.Trim();
        if (trimmed.StartsWith('{') && trimmed.EndsWith('}')) return (trimmed, "");
        throw new AgentAnswerFormatException(AgentOutputFailure.InvalidJson, "answer contains no fenced JSON block");
    }

    public static DimensionTaxonomy ParseTaxonomy(string answer, CategoryPath category, Perspective perspective)
    {
        var (json, reasoning) = SplitAnswer(answer);
        var parsed = Deserialize<TaxonomyAnswer>(json);
        Count("dimensions", parsed.Dimensions.Count, 1, MaxLayer1Dimensions);
        var dimensions = parsed.Dimensions.Select(d =>
        {
            CheckDimension(d.Label, d.Description, d.Members);
            return new TaxonomyDimension(d.Label.Trim(), d.Description.Trim(), d.Members.Select(m => m.Trim()).ToArray());
        }).ToArray();
        CheckDistinct(dimensions.Select(d => d.Label));
        return new DimensionTaxonomy(category, perspective, dimensions, Truncate(reasoning, MaxReasoningLength));
    }

    public static DimensionTaxonomy ParseRefinement(string answer, CategoryPath subCategory, Perspective perspective)
    {
        var (json, _) = SplitAnswer(answer);
        var parsed = Deserialize<RefinementAnswer>(json);
        Count("dimensions", parsed.Dimensions.Count, 1, MaxLayer2Dimensions);
        Length("reasoning", parsed.Reasoning, 1, MaxReasoningLength);
        var dimensions = parsed.Dimensions.Select(d =>
        {
            CheckDimension(d.Label, d.Description, d.Members);
            Length("justification", d.Justification, 1, MaxDescriptionLength);
            var origin = d.Origin switch
            {
                "inherited" => DimensionOrigin.Inherited,
                "adapted" => DimensionOrigin.Adapted,
                "new" => DimensionOrigin.New,
                _ => throw new AgentAnswerFormatException(AgentOutputFailure.SchemaViolation, $"origin '{d.Origin}' is not inherited, adapted or new"),
            };
            return new TaxonomyDimension(d.Label.Trim(), d.Description.Trim(), d.Members.Select(m => m.Trim()).ToArray(), origin, d.Justification.Trim());
        }).ToArray();
        CheckDistinct(dimensions.Select(d => d.Label));
        return new DimensionTaxonomy(subCategory, perspective, dimensions, parsed.Reasoning.Trim());
    }

    public static ItemAnalysis ParseItem(string answer, CategoryTaxonomies taxonomies)
    {
        var (json, _) = SplitAnswer(answer);
        var parsed = Deserialize<ItemAnswer>(json);
        int allowed = taxonomies.Demand.Dimensions.Count + taxonomies.Attribute.Dimensions.Count;
        Count("dimensions", parsed.Dimensions.Count, 1, allowed);
        var seen = new HashSet<(Perspective, string)>();
        var result = parsed.Dimensions.Select(d =>
        {
            var perspective = d.Perspective switch
            {
                "demand" => Perspective.Demand,
                "attribute" => Perspective.Attribute,
                _ => throw new AgentAnswerFormatException(AgentOutputFailure.SchemaViolation, $"perspective '{d.Perspective}' is not demand or attribute"),
            };
            var known = taxonomies.For(perspective).Find(d.Label.Trim())
                        ?? throw new AgentAnswerFormatException(AgentOutputFailure.SchemaViolation, $"'{Truncate(d.Label, 80)}' is not a {d.Perspective} dimension of this category");
            if (!seen.Add((perspective, known.Label)))
                throw new AgentAnswerFormatException(AgentOutputFailure.SchemaViolation, $"dimension '{known.Label}' appears twice");
            Count($"evidence of '{known.Label}'", d.Evidence.Count, 1, MaxEvidence);
            foreach (var e in d.Evidence) Length("evidence", e, 1, MaxEvidenceLength);
            Length("analysis", d.Analysis, 1, MaxAnalysisLength);
            Count($"keywords of '{known.Label}'", d.Keywords.Count, 1, MaxKeywords);
            foreach (var k in d.Keywords) Length("keyword", k, 1, MaxKeywordLength);
            return new DimensionKnowledge(perspective, known.Label, d.Evidence, d.Analysis.Trim(), d.Keywords.Select(k => k.Trim()).ToArray());
        }).ToArray();
        return new ItemAnalysis(result);
    }

    private static T Deserialize<T>(string json)
    {
        // Syntax first, so "not JSON at all" and "JSON of the wrong shape" are told apart in the dead letter.
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new AgentAnswerFormatException(AgentOutputFailure.SchemaViolation, "answer is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new AgentAnswerFormatException(AgentOutputFailure.InvalidJson, $"malformed JSON: {e.Message}");
        }
        try
        {
            return JsonSerializer.Deserialize<T>(json, Strict)
                   ?? throw new AgentAnswerFormatException(AgentOutputFailure.SchemaViolation, "answer is JSON null");
        }
        catch (JsonException e)
        {
            throw new AgentAnswerFormatException(AgentOutputFailure.SchemaViolation, $"answer violates the schema: {e.Message}");
        }
    }

    private static void CheckDimension(string label, string description, List<string> members)
    {
        Length("label", label, 1, MaxLabelLength);
        Length("description", description, 0, MaxDescriptionLength);
        Count($"members of '{label}'", members.Count, 0, MaxMembers);
        foreach (var m in members) Length("member", m, 1, MaxMemberLength);
    }

    private static void CheckDistinct(IEnumerable<string> labels)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var label in labels)
        {
            if (!seen.Add(label))
                throw new AgentAnswerFormatException(AgentOutputFailure.SchemaViolation, $"label '{label}' is used twice");
        }
    }

    private static void Count(string what, int count, int min, int max)
    {
        if (count < min || count > max)
            throw new AgentAnswerFormatException(AgentOutputFailure.SchemaViolation, $"{what}: {count} item(s), expected {min}..{max}");
    }

    private static void Length(string what, string? value, int min, int max)
    {
        // Element nullability inside lists is not enforced by the serializer, so it is checked here.
        if (value is null) throw new AgentAnswerFormatException(AgentOutputFailure.SchemaViolation, $"{what} is null");
        int length = value.Trim().Length;
        if (length < min || length > max)
            throw new AgentAnswerFormatException(AgentOutputFailure.SchemaViolation, $"{what} has {length} characters, expected {min}..{max}");
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];
}
