using ReaSeq.Contracts.Knowledge;
using ReaSeq.Processors.Knowledge.Agents;
using ReaSeq.Processors.Knowledge.Taxonomy;

namespace ReaSeq.Processors.Knowledge.Encoders;

/// <summary>§2.1.2: per perspective, "label: keywords" pairs joined by "; ", encoded, and the two vectors added.</summary>
public static class KnowledgeEncoding
{
    public const string PairDelimiter = "; ";

    public static string PerspectiveText(IEnumerable<DimensionKnowledge> dimensions) =>
        string.Join(PairDelimiter, dimensions.Select(d => $"{d.Label}: {string.Join(", ", d.Keywords)}"));

    /// <summary>
    /// Element-wise sum of the demand and attribute embeddings (not re-normalised, as in the paper). A perspective
    /// without grounded dimensions contributes nothing rather than the embedding of an empty string.
    /// </summary>
    public static float[] Encode(ISentenceEncoder encoder, IReadOnlyList<DimensionKnowledge> dimensions)
    {
        var texts = new List<string>(2);
        foreach (var perspective in new[] { Perspective.Demand, Perspective.Attribute })
        {
            string text = PerspectiveText(dimensions.Where(d => d.Perspective == perspective));
            if (text.Length > 0) texts.Add(text);
        }
        var vector = new float[encoder.Dimension];
        foreach (var part in encoder.Encode(texts))
            for (int i = 0; i < vector.Length; i++) vector[i] += part[i];
        return vector;
    }
}
