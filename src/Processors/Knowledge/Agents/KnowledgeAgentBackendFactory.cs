using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts.Knowledge;
using ReaSeq.Processors.Knowledge.Agents.Extractive;
using ReaSeq.Processors.Knowledge.Agents.LlamaSharp;
using ReaSeq.Processors.Knowledge.Agents.OpenAi;

namespace ReaSeq.Processors.Knowledge.Agents;

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
