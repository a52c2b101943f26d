namespace ReaSeq.Processors.Knowledge.Encoders;

public sealed class MiniLmEncoderOptions
{
    /// <summary>Longest token sequence fed to the model, [CLS] and [SEP] included (the model was trained with 256).</summary>
    public int MaxTokens { get; set; } = 256;

    /// <summary>Threads one inference may use; the default suits a 2-core container.</summary>
    public int IntraOpThreads { get; set; } = 2;

    /// <summary>Most sentences per ONNX run; larger requests are split so padding memory stays bounded.</summary>
    public int MaxBatchSize { get; set; } = 64;
}
