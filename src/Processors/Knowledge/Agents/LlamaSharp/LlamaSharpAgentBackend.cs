using System.Text;
using LLama;
using LLama.Common;
using LLama.Sampling;
using Microsoft.Extensions.Logging;
using ReaSeq.Processors.Knowledge.Prompts;

namespace ReaSeq.Processors.Knowledge.Agents.LlamaSharp;

/// <summary>
/// The agents on a local GGUF model through LLamaSharp (llama.cpp). Every answer is generated under a GBNF grammar
/// derived from the answer schema (<see cref="AnswerGrammar"/>), so the output is valid JSON of the right shape;
/// the strict parser and the evidence guard still check it.
/// </summary>
public sealed class LlamaSharpAgentBackend : ChatAgentBackend, IDisposable
{
    private readonly LlamaSharpAgentOptions _options;
    private readonly LLamaWeights _weights;
    private readonly ModelParams _parameters;
    private readonly SemaphoreSlim _concurrency;
    private readonly bool _hasChatTemplate;

    public LlamaSharpAgentBackend(LlamaSharpAgentOptions options, KnowledgeMetrics? metrics = null, ILogger<LlamaSharpAgentBackend>? logger = null)
        : base(new PromptLibrary(options.PromptVersion), options.MaxOutputAttempts, metrics, logger)
    {
        options.Validate();
        _options = options;
        // llama.cpp logs through one process-wide hook; route it to our logger (or silence it) instead of stdout.
        LLama.Native.NativeLogConfig.llama_log_set(logger ?? (ILogger)Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        _parameters = new ModelParams(options.ModelPath)
        {
            ContextSize = options.ContextSize,
            Threads = options.Threads,
            BatchThreads = options.Threads,
            GpuLayerCount = 0,
        };
        _weights = LLamaWeights.LoadFromFile(_parameters);
        _hasChatTemplate = _weights.Metadata.ContainsKey("tokenizer.chat_template");
        _concurrency = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        Name = $"llamasharp/{Path.GetFileNameWithoutExtension(options.ModelPath)}";
    }

    public override string Name { get; }

    protected override async Task<string> CompleteAsync(IReadOnlyList<ChatTurn> conversation, AnswerShape shape, CancellationToken cancellationToken)
    {
        string prompt = RenderConversation(conversation);
        var inference = new InferenceParams
        {
            MaxTokens = _options.MaxTokens,
            SamplingPipeline = new DefaultSamplingPipeline
            {
                Temperature = _options.Temperature,
                Seed = _options.Seed,
                Grammar = new Grammar(AnswerGrammar.For(shape, _options.MaxFreeTextChars), "root"),
            },
        };

        await _concurrency.WaitAsync(cancellationToken);
        try
        {
            var executor = new StatelessExecutor(_weights, _parameters);
            var answer = new StringBuilder();
            await foreach (var piece in executor.InferAsync(prompt, inference, cancellationToken)) answer.Append(piece);
            return answer.ToString();
        }
        finally
        {
            _concurrency.Release();
        }
    }

    private string RenderConversation(IReadOnlyList<ChatTurn> conversation)
    {
        if (_hasChatTemplate)
        {
            var template = new LLamaTemplate(_weights) { AddAssistant = true };
            foreach (var turn in conversation) template.Add(turn.Role, turn.Text);
            return Encoding.UTF8.GetString(template.Apply());
        }
        // Models without a template get a plain transcript; the grammar fixes the answer's form either way.
        var text = new StringBuilder();
        foreach (var turn in conversation) text.Append("### ").Append(turn.Role).Append(":\n").Append(turn.Text).Append("\n\n");
        return text.Append("### assistant:\n").ToString();
    }

    public void Dispose()
    {
        _concurrency.Dispose();
        _weights.Dispose();
    }
}
