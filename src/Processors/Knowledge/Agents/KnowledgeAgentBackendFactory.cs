using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts.Knowledge;
using ReaSeq.Processors.Knowledge.Agents.Extractive;
using ReaSeq.Processors.Knowledge.Agents.LlamaSharp;
using ReaSeq.Processors.Knowledge.Agents.OpenAi;

namespace ReaSeq.Processors.Knowledge.Agents;

/// <summary>Which agent backend runs, bound from configuration (section "Knowledge:Agents").</summary>
public sealed class KnowledgeAgentOptions
{
    public const string Extractive = "extractive";
    public const string OpenAi = "openai";
    public const string LlamaSharp = "llamasharp";

    /// <summary>"extractive" (default: no generative model needed), "openai" or "llamasharp".</summary>
    public string Backend { get; set; } = Extractive;

    public ExtractiveAgentOptions ExtractiveOptions { get; set; } = new();
    public OpenAiAgentOptions OpenAiOptions { get; set; } = new();
    public LlamaSharpAgentOptions LlamaSharpOptions { get; set; } = new();
}

public static class KnowledgeAgentBackendFactory
{
    /// <summary>
    /// Builds the configured backend. An empty Backend means "extractive"; an unknown name is an error rather than
    /// a silent fallback, so a typo cannot quietly replace a configured model.
    /// </summary>
    public static IKnowledgeAgentBackend Create(KnowledgeAgentOptions options, ISentenceEncoder encoder,
                                                KnowledgeMetrics? metrics = null, ILoggerFactory? loggerFactory = null)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        string backend = string.IsNullOrWhiteSpace(options.Backend) ? KnowledgeAgentOptions.Extractive : options.Backend.Trim().ToLowerInvariant();
        IKnowledgeAgentBackend created = backend switch
        {
            KnowledgeAgentOptions.Extractive => new ExtractiveAgentBackend(encoder, options.ExtractiveOptions),
            KnowledgeAgentOptions.OpenAi => new OpenAiChatAgentBackend(options.OpenAiOptions, metrics, loggerFactory.CreateLogger<OpenAiChatAgentBackend>()),
            KnowledgeAgentOptions.LlamaSharp => new LlamaSharpAgentBackend(options.LlamaSharpOptions, metrics, loggerFactory.CreateLogger<LlamaSharpAgentBackend>()),
            _ => throw new ArgumentException($"Unknown knowledge agent backend '{options.Backend}'; use extractive, openai or llamasharp."),
        };
        loggerFactory.CreateLogger(typeof(KnowledgeAgentBackendFactory)).LogInformation(
            "Knowledge agent backend {Backend} (prompt version {PromptVersion})", created.Name, created.PromptVersion);
        return created;
    }
}
