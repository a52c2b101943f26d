namespace ReaSeq.Contracts.Knowledge;

/// <summary>Turns sentences into L2-normalised dense vectors (all-MiniLM-L6-v2 by default).</summary>
public interface ISentenceEncoder
{
    /// <summary>Length of every vector this encoder returns.</summary>
    int Dimension { get; }

    /// <summary>Stable model name, recorded with every vector so a change of model is visible downstream.</summary>
    string ModelName { get; }

    /// <summary>Encodes a batch; result[i] belongs to sentences[i] and has unit length.</summary>
    float[][] Encode(IReadOnlyList<string> sentences);
}
