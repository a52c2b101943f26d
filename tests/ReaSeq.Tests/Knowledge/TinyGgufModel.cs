using System.Text;

namespace ReaSeq.Tests.Knowledge;

/// <summary>
/// Writes a tiny llama-architecture model in GGUF v3 with random weights: enough for llama.cpp to load it, tokenize
/// with a SentencePiece-style vocabulary (printable ASCII, "▁", byte fallback) and generate under a grammar. Its
/// text is noise; what it proves is the loading, the grammar constraint and the parsing path.
/// </summary>
internal static class TinyGgufModel
{
    private const int Embedding = 64;
    private const int Heads = 4;
    private const int FeedForward = 128;
    private const int Layers = 2;
    private const int Context = 4096;
    private const int Alignment = 32;

    private enum ValueType : uint { UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7, String = 8, Array = 9 }

    public static void Write(string path, int seed = 1234)
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<int> { 2, 3, 3 }; // unknown, control, control
        for (int b = 0; b < 256; b++)
        {
            tokens.Add($"<0x{b:X2}>");
            types.Add(6); // byte fallback
        }
        tokens.Add("\u2581"); // SentencePiece's space marker
        types.Add(1);
        for (char c = '!'; c <= '~'; c++)
        {
            tokens.Add(c.ToString());
            types.Add(1);
        }
        int vocab = tokens.Count;

        var random = new Random(seed);
        var tensors = new List<(string Name, long[] Shape)>
        {
            ("token_embd.weight", [Embedding, vocab]),
            ("output_norm.weight", [Embedding]),
            ("output.weight", [Embedding, vocab]),
        };
        for (int layer = 0; layer < Layers; layer++)
        {
            string p = $"blk.{layer}.";
            tensors.Add((p + "attn_norm.weight", [Embedding]));
            tensors.Add((p + "attn_q.weight", [Embedding, Embedding]));
            tensors.Add((p + "attn_k.weight", [Embedding, Embedding]));
            tensors.Add((p + "attn_v.weight", [Embedding, Embedding]));
            tensors.Add((p + "attn_output.weight", [Embedding, Embedding]));
            tensors.Add((p + "ffn_norm.weight", [Embedding]));
            tensors.Add((p + "ffn_gate.weight", [Embedding, FeedForward]));
            tensors.Add((p + "ffn_up.weight", [Embedding, FeedForward]));
            tensors.Add((p + "ffn_down.weight", [FeedForward, Embedding]));
        }

        using var file = new BinaryWriter(File.Create(path), Encoding.UTF8);
        file.Write("GGUF"u8.ToArray());
        file.Write(3u);
        file.Write((ulong)tensors.Count);

        var metadata = new List<Action>();
        void Kv(string key, ValueType type, Action value) => metadata.Add(() =>
        {
            WriteString(file, key);
            file.Write((uint)type);
            value();
        });
        Kv("general.architecture", ValueType.String, () => WriteString(file, "llama"));
        Kv("general.name", ValueType.String, () => WriteString(file, "reaseq-tiny-random"));
        Kv("general.alignment", ValueType.UInt32, () => file.Write((uint)Alignment));
        Kv("llama.context_length", ValueType.UInt32, () => file.Write((uint)Context));
        Kv("llama.embedding_length", ValueType.UInt32, () => file.Write((uint)Embedding));
        Kv("llama.block_count", ValueType.UInt32, () => file.Write((uint)Layers));
        Kv("llama.feed_forward_length", ValueType.UInt32, () => file.Write((uint)FeedForward));
        Kv("llama.attention.head_count", ValueType.UInt32, () => file.Write((uint)Heads));
        Kv("llama.attention.head_count_kv", ValueType.UInt32, () => file.Write((uint)Heads));
        Kv("llama.rope.dimension_count", ValueType.UInt32, () => file.Write((uint)(Embedding / Heads)));
        Kv("llama.attention.layer_norm_rms_epsilon", ValueType.Float32, () => file.Write(1e-5f));
        Kv("tokenizer.ggml.model", ValueType.String, () => WriteString(file, "llama"));
        Kv("tokenizer.ggml.tokens", ValueType.Array, () =>
        {
            file.Write((uint)ValueType.String);
            file.Write((ulong)vocab);
            foreach (var t in tokens) WriteString(file, t);
        });
        Kv("tokenizer.ggml.scores", ValueType.Array, () =>
        {
            file.Write((uint)ValueType.Float32);
            file.Write((ulong)vocab);
            for (int i = 0; i < vocab; i++) file.Write(-(float)i);
        });
        Kv("tokenizer.ggml.token_type", ValueType.Array, () =>
        {
            file.Write((uint)ValueType.Int32);
            file.Write((ulong)vocab);
            foreach (var t in types) file.Write(t);
        });
        Kv("tokenizer.ggml.unknown_token_id", ValueType.UInt32, () => file.Write(0u));
        Kv("tokenizer.ggml.bos_token_id", ValueType.UInt32, () => file.Write(1u));
        Kv("tokenizer.ggml.eos_token_id", ValueType.UInt32, () => file.Write(2u));
        Kv("tokenizer.ggml.add_bos_token", ValueType.Bool, () => file.Write((byte)1));
        file.Write((ulong)metadata.Count);
        foreach (var write in metadata) write();

        ulong offset = 0;
        var offsets = new List<ulong>();
        foreach (var (name, shape) in tensors)
        {
            WriteString(file, name);
            file.Write((uint)shape.Length);
            foreach (var dim in shape) file.Write((ulong)dim);
            file.Write(0u); // F32
            file.Write(offset);
            offsets.Add(offset);
            offset += Align((ulong)(shape.Aggregate(1L, (a, b) => a * b) * 4));
        }
        Pad(file);
        foreach (var (name, shape) in tensors)
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            bool norm = name.EndsWith("norm.weight", StringComparison.Ordinal);
            for (long i = 0; i < count; i++) file.Write(norm ? 1f : (float)((random.NextDouble() * 2 - 1) * 0.5));
            Pad(file);
        }
    }

    private static ulong Align(ulong size) => (size + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter file)
    {
        while (file.BaseStream.Position % Alignment != 0) file.Write((byte)0);
    }

    private static void WriteString(BinaryWriter file, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        file.Write((ulong)bytes.Length);
        file.Write(bytes);
    }
}
