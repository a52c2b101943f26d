using System.ComponentModel.DataAnnotations;
using ReaSeq.Processors.Knowledge.Prompts;

namespace ReaSeq.Processors.Knowledge.Agents.LlamaSharp;

public sealed class LlamaSharpAgentOptions
{
    /// <summary>Path of a GGUF model file.</summary>
    [Required] public string ModelPath { get; set; } = "";

    /// <summary>Tokens of context; prompts of all layers must fit.</summary>
    [Range(512, 131072)] public uint ContextSize { get; set; } = 8192;

    /// <summary>Most tokens generated per answer.</summary>
    [Range(16, 16384)] public int MaxTokens { get; set; } = 1536;

    [Range(1, 256)] public int Threads { get; set; } = 2;

    /// <summary>Sampling seed; with temperature 0 decoding is greedy and fully reproducible anyway.</summary>
    public uint Seed { get; set; } = 7;

    public float Temperature { get; set; }

    /// <summary>Longest free text (analysis, description, justification) the grammar admits, in characters.</summary>
    [Range(8, 1000)] public int MaxFreeTextChars { get; set; } = 240;

    [Range(1, 10)] public int MaxOutputAttempts { get; set; } = 2;

    /// <summary>Generations at once; each holds its own context, and CPU inference gains nothing from more.</summary>
    [Range(1, 64)] public int MaxConcurrency { get; set; } = 1;

    public string PromptVersion { get; set; } = PromptLibrary.DefaultVersion;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath)) throw new ArgumentException("LlamaSharp ModelPath is required.");
        if (!File.Exists(ModelPath)) throw new FileNotFoundException($"GGUF model '{ModelPath}' does not exist.", ModelPath);
        if (ContextSize < 512 || MaxTokens < 16 || Threads < 1 || MaxOutputAttempts < 1 || MaxConcurrency < 1 || MaxFreeTextChars < 8)
            throw new ArgumentException("LlamaSharp ContextSize >= 512, MaxTokens >= 16, Threads/MaxOutputAttempts/MaxConcurrency >= 1.");
    }
}
